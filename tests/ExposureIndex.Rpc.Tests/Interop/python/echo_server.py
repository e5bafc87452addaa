"""conformance.v1.Echo served by python3-grpcio, for our client's interop tests.

Binds 127.0.0.1 on a free port, prints "PORT <n>" once serving, and stops when stdin closes
(the test owns this process) or after --max-seconds. Loopback only.
"""
import argparse
import sys
import threading
from concurrent import futures

import grpc

import conformance_pb2 as pb

SERVICE = "conformance.v1.Echo"


def status_code(number):
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


def fail(request, context):
    context.set_trailing_metadata((("x-fail-reason", "requested"),))
    context.abort(status_code(request.fail_code), request.fail_message)


def reply(request, index):
    payload = bytes(request.reply_size) if request.reply_size > 0 else request.payload
    return pb.EchoReply(text=request.text, index=index, payload=payload)


def unary(request, context):
    metadata = dict(context.invocation_metadata())
    if "x-echo" in metadata:
        context.send_initial_metadata((("x-echo-header", metadata["x-echo"]),))
        trailing = [("x-echo-trailer", metadata["x-echo"])]
        if "x-blob-bin" in metadata:
            trailing.append(("x-blob-bin", metadata["x-blob-bin"]))
        context.set_trailing_metadata(tuple(trailing))
    if request.fail_code:
        fail(request, context)
    return reply(request, 0)


def collect(request_iterator, context):
    count = 0
    total = 0
    last = None
    for request in request_iterator:
        count += 1
        total += len(request.payload)
        last = request
    return pb.EchoReply(text=last.text if last else "", count=count, total_bytes=total)


def expand(request, context):
    for index in range(request.repeat):
        if request.fail_code and index == request.fail_after:
            fail(request, context)
        yield reply(request, index)


def chat(request_iterator, context):
    for index, request in enumerate(request_iterator):
        if request.fail_code and index >= request.fail_after:
            fail(request, context)
        yield reply(request, index)


def hang(request, context):
    done = threading.Event()
    context.add_callback(done.set)
    done.wait(60)
    print("HANG-ENDED " + request.text, flush=True)
    return pb.EchoReply()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()

    def handler(kind, function):
        return kind(function, request_deserializer=pb.EchoRequest.FromString, response_serializer=pb.EchoReply.SerializeToString)

    handlers = {
        "Unary": handler(grpc.unary_unary_rpc_method_handler, unary),
        "Collect": handler(grpc.stream_unary_rpc_method_handler, collect),
        "Expand": handler(grpc.unary_stream_rpc_method_handler, expand),
        "Chat": handler(grpc.stream_stream_rpc_method_handler, chat),
        "Hang": handler(grpc.unary_unary_rpc_method_handler, hang),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        print("BIND-FAILED", flush=True)
        return 2
    server.start()
    print("PORT %d" % port, flush=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.stop(0)

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.wait_for_termination(timeout=args.max_seconds)
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
