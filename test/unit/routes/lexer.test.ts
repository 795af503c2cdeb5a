import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenize } from '../../../src/core/routes/lexer.js';

const kinds = (text: string): string[] => tokenize(text).map((t) => `${t.type}:${t.text}`);

test('keywords are case-insensitive, literals are lower case only', () => {
  assert.deepEqual(kinds('from FROM From where INTO select'), [
    'FROM:from',
    'FROM:FROM',
    'FROM:From',
    'WHERE:where',
    'INTO:INTO',
    'SELECT:select',
    'EOF:',
  ]);
  assert.deepEqual(kinds('and Or NOT true TRUE null NULL undefined'), [
    'AND:and',
    'OR:Or',
    'NOT:NOT',
    'TRUE:true',
    'ID:TRUE',
    'NULL:null',
    'ID:NULL',
    'UNDEFINED:undefined',
    'EOF:',
  ]);
});

test('longest match wins, as in ANTLR: identifiers swallow operators written without spaces', () => {
  assert.deepEqual(kinds('a+b 3+4 -x - x a!=b'), [
    'ID:a+b',
    'ID:3+4',
    'ID:-x',
    '-:-',
    'ID:x',
    'ID:a!',
    '=:=',
    'ID:b',
    'EOF:',
  ]);
  assert.deepEqual(kinds("'a'||'b' 'a' || 'b'"), [
    "ID:'a'||'b'",
    "STRING:'a'",
    '||:||',
    "STRING:'b'",
    'EOF:',
  ]);
  assert.deepEqual(kinds('trueish andy'), ['ID:trueish', 'ID:andy', 'EOF:']);
});

test('numbers: integers may carry a minus; reals, exponents and hex', () => {
  assert.deepEqual(kinds('12 -3 1.5 -.5 1e3 2.5E-2 0x1F e5 5. 1.5.6'), [
    'INTEGER:12',
    'INTEGER:-3',
    'REAL:1.5',
    'REAL:-.5',
    'REAL:1e3',
    'REAL:2.5E-2',
    'HEX:0x1F',
    'REAL:e5',
    'ID:5.',
    'ID:1.5.6',
    'EOF:',
  ]);
  assert.deepEqual(kinds('3 - 4'), ['INTEGER:3', '-:-', 'INTEGER:4', 'EOF:']);
  assert.deepEqual(kinds('3 -4'), ['INTEGER:3', 'INTEGER:-4', 'EOF:']);
});

test('strings: both quotes, escapes, unterminated', () => {
  assert.deepEqual(kinds(`'it\\'s' "say \\"hi\\"" 'a"b' "a'b"`), [
    "STRING:'it\\'s'",
    'STRING:"say \\"hi\\""',
    `STRING:'a"b'`,
    `STRING:"a'b"`,
    'EOF:',
  ]);
  assert.deepEqual(kinds("'open"), ["UNTERMINATED_STRING:'open", 'EOF:']);
  assert.deepEqual(kinds("'bad \\n escape'"), [
    "UNTERMINATED_STRING:'bad ",
    'UNKNOWN_CHAR:\\',
    'ID:n',
    "ID:escape'",
    'EOF:',
  ]);
  assert.deepEqual(kinds("'\\u00e9'"), ["STRING:'\\u00e9'", 'EOF:']);
});

test('system properties, $body queries, brackets and braces', () => {
  assert.deepEqual(kinds('$contentType $body.a[0].b {$x} $ a[0] [1]'), [
    'SYS_PROP:$contentType',
    'SYS_PROP:$body.a[0].b',
    '{:{',
    'SYS_PROP:$x',
    '}:}',
    'ID:$',
    'QUERY_PATH:a[0]',
    'QUERY_PATH:[1]',
    'EOF:',
  ]);
});

test('operators and unknown characters', () => {
  assert.deepEqual(kinds('= != <> < <= > >= || ?? ( ) , * / % + @ ; : ?'), [
    '=:=',
    '!=:!=',
    '<>:<>',
    '<:<',
    '<=:<=',
    '>:>',
    '>=:>=',
    '||:||',
    '??:??',
    '(:(',
    '):)',
    ',:,',
    '*:*',
    '/:/',
    '%:%',
    '+:+',
    'UNKNOWN_CHAR:@',
    'UNKNOWN_CHAR:;',
    'UNKNOWN_CHAR::',
    'UNKNOWN_CHAR:?',
    'EOF:',
  ]);
});

test('comments are skipped; an unclosed /* is a slash and a star', () => {
  assert.deepEqual(kinds('FROM /* a comment */ /x'), ['FROM:FROM', '/:/', 'ID:x', 'EOF:']);
  assert.deepEqual(kinds('FROM /messages/*'), ['FROM:FROM', '/:/', 'ID:messages', '/:/', '*:*', 'EOF:']);
});

test('positions are 1-based lines and columns; \\r counts as a column', () => {
  const tokens = tokenize('FROM\n  /x\r\n\tWHERE');
  assert.deepEqual(
    tokens.map((t) => [t.text, t.pos.line, t.pos.column]),
    [
      ['FROM', 1, 1],
      ['/', 2, 3],
      ['x', 2, 4],
      ['WHERE', 3, 2],
      ['', 3, 7],
    ],
  );
});
