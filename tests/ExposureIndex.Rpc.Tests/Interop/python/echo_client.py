"""python3-grpcio client of conformance.v1.Echo, for our server's interop tests.

Usage: echo_client.py <port> <scenario>. Talks to 127.0.0.1 only. Prints one line
"RESULT <json>" describing what it observed; the C# test asserts on it.
"""
import json
import queue
import sys

import grpc

import conformance_pb2 as pb

SERVICE = "/conformance.v1.Echo/"
TIMEOUT = 20


def code_number(code):
    return code.value[0]


def stub(channel, name, kind):
    factory = getattr(channel, kind)
    return factory(SERVICE + name, request_serializer=pb.EchoRequest.SerializeToString, response_deserializer=pb.EchoReply.FromString)


def rpc_error(error):
    return {
        "code": code_number(error.code()),
        "details": error.details(),
        "trailers": {k: (v.hex() if isinstance(v, bytes) else v) for k, v in (error.trailing_metadata() or ())},
    }


def unary(channel):
    call = stub(channel, "Unary", "unary_unary")
    response, info = call.with_call(
        pb.EchoRequest(text="hello from python", payload=b"\x00\x01\xfe"),
        metadata=(("x-echo", "py"), ("x-blob-bin", b"\x00\x01\xfe\xff")),
        timeout=TIMEOUT,
    )
    return {
        "text": response.text,
        "payload": response.payload.hex(),
        "code": code_number(info.code()),
        "headers": {k: v for k, v in info.initial_metadata()},
        "trailers": {k: (v.hex() if isinstance(v, bytes) else v) for k, v in info.trailing_metadata()},
    }


def unary_error(channel):
    call = stub(channel, "Unary", "unary_unary")
    try:
        call(pb.EchoRequest(fail_code=5, fail_message="Schlüssel nicht gefunden – 100% sicher"), timeout=TIMEOUT)
    except grpc.RpcError as error:
        return rpc_error(error)
    return {"code": 0}


def unary_crash(channel):
    call = stub(channel, "Unary", "unary_unary")
    try:
        call(pb.EchoRequest(fail_code=-1), timeout=TIMEOUT)
    except grpc.RpcError as error:
        return rpc_error(error)
    return {"code": 0}


def deadline(channel):
    call = stub(channel, "Hang", "unary_unary")
    try:
        # Warm the connection first so the deadline measures the call (the handler must start in time).
        stub(channel, "Unary", "unary_unary")(pb.EchoRequest(text="warm-up"), timeout=TIMEOUT)
        call(pb.EchoRequest(text="python deadline"), timeout=1.5)
    except grpc.RpcError as error:
        return rpc_error(error)
    return {"code": 0}


def unknown(channel):
    call = stub(channel, "Missing", "unary_unary")
    try:
        call(pb.EchoRequest(), timeout=TIMEOUT)
    except grpc.RpcError as error:
        return rpc_error(error)
    return {"code": 0}


def server_stream(channel):
    call = stub(channel, "Expand", "unary_stream")
    indexes = [r.index for r in call(pb.EchoRequest(text="s", repeat=500), timeout=TIMEOUT)]
    return {"count": len(indexes), "in_order": indexes == list(range(500))}


def server_stream_error(channel):
    call = stub(channel, "Expand", "unary_stream")
    received = []
    try:
        for r in call(pb.EchoRequest(repeat=10, fail_after=4, fail_code=10, fail_message="halt"), timeout=TIMEOUT):
            received.append(r.index)
    except grpc.RpcError as error:
        result = rpc_error(error)
        result["received"] = received
        return result
    return {"code": 0, "received": received}


def client_stream(channel):
    call = stub(channel, "Collect", "stream_unary")
    requests = (pb.EchoRequest(text="c%d" % i, payload=bytes(i % 50)) for i in range(1000))
    response = call(requests, timeout=TIMEOUT)
    return {"count": response.count, "total_bytes": response.total_bytes, "text": response.text}


def duplex(channel):
    call = stub(channel, "Chat", "stream_stream")
    requests = (pb.EchoRequest(text="d%d" % i, payload=bytes(i % 100)) for i in range(2000))
    replies = list(call(requests, timeout=TIMEOUT))
    return {
        "count": len(replies),
        "in_order": [r.index for r in replies] == list(range(2000)),
        "texts_ok": all(r.text == "d%d" % r.index for r in replies),
    }


def duplex_pingpong(channel):
    # Each request is produced only after the previous reply arrived: a server that holds replies
    # back for batching would stall this loop until the timeout.
    call = stub(channel, "Chat", "stream_stream")
    outbox = queue.Queue()
    rounds = 100

    def requests():
        for _ in range(rounds):
            item = outbox.get(timeout=TIMEOUT)
            yield item

    outbox.put(pb.EchoRequest(text="p0"))
    responses = call(requests(), timeout=TIMEOUT)
    seen = 0
    for reply in responses:
        if reply.text != "p%d" % seen:
            return {"error": "unexpected reply %r at %d" % (reply.text, seen)}
        seen += 1
        if seen < rounds:
            outbox.put(pb.EchoRequest(text="p%d" % seen))
    return {"rounds": seen}


def duplex_error(channel):
    call = stub(channel, "Chat", "stream_stream")
    requests = iter([pb.EchoRequest(text="a"), pb.EchoRequest(text="b"), pb.EchoRequest(text="c", fail_code=3, fail_after=2, fail_message="bad batch")])
    received = []
    try:
        for r in call(requests, timeout=TIMEOUT):
            received.append(r.text)
    except grpc.RpcError as error:
        result = rpc_error(error)
        result["received"] = received
        return result
    return {"code": 0, "received": received}


SCENARIOS = {f.__name__: f for f in (unary, unary_error, unary_crash, deadline, unknown, server_stream, server_stream_error, client_stream, duplex, duplex_pingpong, duplex_error)}


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    options = [("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel("127.0.0.1:%d" % port, options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        result = SCENARIOS[scenario](channel)
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
