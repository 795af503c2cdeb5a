#!/usr/bin/env node
// The CLI lives in TypeScript under src/cli; `npm install` builds it into dist/.
import '../dist/src/cli/run.js';
