// renderenv's start of the jsii kernel: the runtime's own program, in this
// process, talking to the Go app over this process's standard input and
// output.
//
// jsii-runtime-go starts `$JSII_NODE <runtime>/bin/jsii-runtime.js`. That
// script starts a second Node.js process (<runtime>/lib/program.js), whose
// jsii channel is its file descriptor 3, and copies every message between
// the Go app and that channel. Here the program runs without the copier: its
// channel is standard input and output, the pipes jsii-runtime-go opened.
//
// Anything the kernel's libraries print to standard output would corrupt
// the channel, so process.stdout is replaced, before they load, by a stream
// that wraps each chunk as the runtime's copier does ({"stdout": base64} on
// standard error), which jsii-runtime-go prints to the Go app's standard
// output.
//
// If the program does not open its channel as this script expects (another
// runtime version), the runtime's own script runs instead, copier and all.
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');
const { Writable } = require('stream');

const entry = process.argv[2];
const program = path.resolve(path.dirname(entry), '..', 'lib', 'program.js');
const channel = 'readFD:3,writeFD:3';

let source = '';
try {
  source = fs.readFileSync(program, 'utf8');
} catch {
  // No program beside the entry point: leave it to the entry point.
}
const at = source.indexOf(channel);

if (at < 0 || at !== source.lastIndexOf(channel)) {
  require(entry);
} else {
  const stdout = new Writable({
    write(chunk, encoding, done) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      process.stderr.write(`${JSON.stringify({ stdout: data.toString('base64') })}\n`, done);
    },
  });
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => stdout });

  const kernel = new Module(program, module);
  kernel.filename = program;
  kernel.paths = Module._nodeModulePaths(path.dirname(program));
  kernel._compile(`${source.slice(0, at)}readFD:0,writeFD:1${source.slice(at + channel.length)}`, program);
}
