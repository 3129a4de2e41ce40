/**
 * The Python payload host's session (python/dranspose/host/session.py) driven directly: a scan
 * state it cannot build fails that payload's construction with the reason, and the instance is
 * still marked ready, so that a later request for it (finish here; timer and publish reads in a
 * reducer) answers instead of waiting forever.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { ROOT } from './helpers/build.js';
import { PYTHON, run } from './helpers/process.js';

const SCRIPT = `
import json, sys, threading
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))})
from dranspose.host.session import Session
session = Session("worker")
session.handle({"op": "load", "spec": sys.argv[1]}, [])
built = session.handle({"op": "new", "instance": 1, "state": {"tags": ["generic"]}}, [])[0]
answers = []
later = threading.Thread(target=lambda: answers.append(session.handle({"op": "finish", "instance": 1}, [])[0]), daemon=True)
later.start()
later.join(10)
print(json.dumps({"built": built, "finish": answers[0] if answers else "no answer"}))
`;

describe('Python payload host session', function () {
  it('a scan state without a name fails construction with the reason, and later requests for it still answer', async () => {
    const { stdout } = await run(PYTHON, ['-c', SCRIPT, `${join(ROOT, 'test/payloads/python/packets.py')}:PacketWorker`]);
    const { built, finish } = JSON.parse(stdout) as { built: { error?: string }; finish: unknown };
    expect(built.error).to.match(/^constructing PacketWorker failed: TypeError: .*'name'/);
    expect(finish).to.deep.equal({});
  });
});
