#!/usr/bin/python3
# bench/rpc's optional reference: python3-grpcio (Debian) talking to itself over loopback, with the same message
# bytes as our transport's echo runs. Messages stay raw bytes (no serializers), so no generated code is needed.
#   grpc_echo_reference.py server <expand-reply-hex>      serves bench.v1.Echo on 127.0.0.1:0, prints "PORT <n>"
#   grpc_echo_reference.py client <port> <request-hex> <chat-count> <expand-count> <max-seconds>
# The client prints "chat <messages> <seconds>" and "expand <messages> <seconds>". Loopback only; every call
# has a deadline, and the server exits when its stdin closes (the bench owns it).
import sys
import time

import grpc
from concurrent import futures

SERVICE = 'bench.v1.Echo'
NO_PROXY = [('grpc.enable_http_proxy', 0)]


def serve(expand_reply):
    def chat(requests, context):
        for request in requests:
            yield request

    def expand(request, context):
        # The client passes the reply count as an ASCII number in the request metadata: the request bytes stay
        # the protobuf message our own run sends.
        count = int(dict(context.invocation_metadata()).get('x-repeat', '0'))
        for _ in range(count):
            yield expand_reply

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        'Chat': grpc.stream_stream_rpc_method_handler(chat),
        'Expand': grpc.unary_stream_rpc_method_handler(expand),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler], options=NO_PROXY)
    port = server.add_insecure_port('127.0.0.1:0')
    server.start()
    print(f'PORT {port}', flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    server.stop(grace=1)


def client(port, request, chat_count, expand_count, max_seconds):
    channel = grpc.insecure_channel(f'127.0.0.1:{port}', options=NO_PROXY)
    grpc.channel_ready_future(channel).result(timeout=30)
    chat = channel.stream_stream(f'/{SERVICE}/Chat')
    expand = channel.unary_stream(f'/{SERVICE}/Expand')

    def run_chat(count):
        def requests():
            for _ in range(count):
                yield request
        received = 0
        for _ in chat(requests(), timeout=max_seconds):
            received += 1
        return received

    def run_expand(count):
        received = 0
        for _ in expand(request, timeout=max_seconds, metadata=[('x-repeat', str(count))]):
            received += 1
        return received

    run_chat(min(chat_count, 2000))  # warm-up
    start = time.perf_counter()
    received = run_chat(chat_count)
    print(f'chat {received} {time.perf_counter() - start:.6f}', flush=True)

    run_expand(min(expand_count, 2000))
    start = time.perf_counter()
    received = run_expand(expand_count)
    print(f'expand {received} {time.perf_counter() - start:.6f}', flush=True)
    channel.close()


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        serve(bytes.fromhex(sys.argv[2]))
    else:
        client(int(sys.argv[2]), bytes.fromhex(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
