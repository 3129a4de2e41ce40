"""The payload host: runs one worker or reducer class for a Node component, over local zmq sockets."""
