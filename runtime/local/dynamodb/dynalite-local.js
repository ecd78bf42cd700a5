// dynalite-local.js - the local DynamoDB: dynalite (npm, pinned in package-lock.json), a DynamoDB
// implementation we did not write, in memory, on 127.0.0.1 and a port the system chose (its own
// command line cannot take port 0), tables usable at once (no CREATING delay). Prints
// "dynalite listening on 127.0.0.1:<port>" when ready; stops on SIGTERM or SIGINT.
// scripts/run-local and tests/integration/stack.py start it, then build/dynamodb-table creates
// the table; the DynamoDB client tests start it through support_dynalite.py.
'use strict';

const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  console.log('dynalite listening on 127.0.0.1:' + server.address().port);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    setTimeout(() => process.exit(0), 2000).unref(); // idle keep-alive connections
    server.close(() => process.exit(0));
  });
}
