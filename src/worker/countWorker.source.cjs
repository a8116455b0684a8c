'use strict';
// The folder-count worker from source, for tests and benchmarks run under tsx (countPool.ts picks it when no
// bundled dist/countWorker.js is beside it): a worker's entry file is not compiled by tsx, so this loads it.
require('tsx/cjs');
require('./countWorker.ts');
