"""
`python -m dranspose.host --kind worker|reducer --lane main=ENDPOINT [--lane timer=… --lane read=…]
[--shared-frames FD,SLOTS,SLOT_BYTES]`

Each lane is a zmq PAIR socket the Node component binds; requests on one lane are answered in
order. The main lane loads the class and runs construction, events or results and finish; the
reducer's timer and publish reads have lanes (threads) of their own, so they run beside
process_result as in the original. A worker's event frames may come in shared memory instead
(session.py, shared.py). Standard input is the lifeline: when it closes (the Node
process ended, however), `close(context)` runs and the host exits.
"""
import argparse
import json
import logging
import os
import sys
import threading
from typing import Any

import zmq

from dranspose.host.session import Session
from dranspose.host.shared import SharedSlots


def main() -> None:
    parser = argparse.ArgumentParser(prog="dranspose.host")
    parser.add_argument("--kind", choices=["worker", "reducer"], required=True)
    parser.add_argument("--lane", action="append", default=[], help="NAME=ENDPOINT")
    parser.add_argument("--shared-frames", help="FD,SLOTS,SLOT_BYTES: the memory file event frames come in")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), stream=sys.stderr,
                        format="%(levelname)s:%(name)s:%(message)s")
    # the original appends the working directory, so that `src.worker:Class` imports from it
    sys.path.append(os.getcwd())
    session = Session(args.kind, SharedSlots(args.shared_frames) if args.shared_frames else None)
    context = zmq.Context()
    lanes = dict(lane.split("=", 1) for lane in args.lane)
    for name, endpoint in lanes.items():
        if name != "main":
            threading.Thread(target=serve, args=(session, context, endpoint), name=name, daemon=True).start()
    threading.Thread(target=wait_for_parent, args=(session,), name="lifeline", daemon=True).start()
    serve(session, context, lanes["main"])


def serve(session: Session, context: zmq.Context, endpoint: str) -> None:
    socket = context.socket(zmq.PAIR)
    socket.connect(endpoint)
    while True:
        frames = socket.recv_multipart(copy=False)
        header = json.loads(frames[0].bytes)
        reply, bodies = session.handle(header, frames[1:])
        socket.send_multipart([json.dumps(reply).encode(), *bodies], copy=False)


def wait_for_parent(session: Session) -> None:
    while sys.stdin.buffer.read(65536):
        pass
    session.close()
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
