#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the test data (tests/data/) and the
protocol examples (docs/PROTOCOL.md). Run once after changing either; the fuzzers grow
their own working corpora elsewhere (fuzz/run.sh keeps them under build-fuzz/corpus/).
Files named regression-* are inputs that once found a bug (docs/RELIABILITY.md); this
script leaves them alone."""
import hashlib, json, os, re, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
DATA = os.path.join(ROOT, "tests", "data")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, pad=b""):
    """tensors: [(name, dtype, shape, bytes)] -> a .safetensors file."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data + pad


# protocol: every JSON frame in docs/PROTOCOL.md plus a few written here.
doc = open(os.path.join(ROOT, "docs", "PROTOCOL.md"), encoding="utf-8").read()
for line in doc.splitlines():
    line = line.strip()
    if line.startswith("{") and '"v"' in line:
        try:
            json.loads(line)
        except ValueError:
            continue
        put("protocol", line)
for frame in [
    {"v": 1, "type": "submit", "id": "r1", "prompt": {"tokens": [1, 2, 3]}, "params": {"max_tokens": 4}},
    {"v": 1, "type": "submit", "id": "r2", "messages": [{"role": "user", "content": "hi"}],
     "params": {"stop": ["\n"], "temperature": 0.5, "stream": True}},
    {"v": 1, "type": "cancel", "id": "r1"},
    {"v": 1, "type": "stats"},
    {"v": 1, "type": "error", "ref": "r1", "code": "bad_json", "message": "x"},
]:
    put("protocol", json.dumps(frame))

# safetensors: small well-formed files, one with metadata, and the tiny model's real
# header (its data cut off: a truncated shard).
put("safetensors", safetensors([("a", "F32", [2, 2], bytes(16)), ("b", "BF16", [3], bytes(6))]))
put("safetensors", safetensors([("blocks", "U8", [2, 1, 16], bytes(32)), ("scales", "U8", [2, 1], bytes(2)),
                                ("n", "I64", [], bytes(8))], metadata={"format": "pt"}))
put("safetensors", safetensors([("e", "F16", [0, 4], b"")]))
shard = os.path.join(DATA, "tiny", "model", "model-00000-of-00002.safetensors")
with open(shard, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    put("safetensors", struct.pack("<Q", n) + f.read(n) + bytes(64))

# config: both formats of the tiny model.
for rel in ["tiny/model/config.json", "tiny/model/original/config.json"]:
    put("config", open(os.path.join(DATA, rel), "rb").read())

# shard_index: indexes over the fuzzer's two shards (fuzz/fuzz_shard_index.cpp) and the
# tiny model's own (its shards are absent there).
put("shard_index", json.dumps({"metadata": {"total_size": 1}, "weight_map": {
    "x": "a.safetensors", "y": "a.safetensors", "z": "b.safetensors", "w": "b.safetensors"}}))
put("shard_index", json.dumps({"weight_map": {"x": "a.safetensors", "z": "b.safetensors"}}))
put("shard_index", open(os.path.join(DATA, "tiny", "model", "model.safetensors.index.json"), "rb").read())

# tokenizer: the golden cases' texts (a sample), invalid UTF-8, and huge runs (first byte
# 0x01, see fuzz/fuzz_tokenizer.cpp).
cases = [json.loads(l) for l in open(os.path.join(DATA, "tokenizer", "encode_cases.jsonl"), encoding="utf-8")]
for c in cases[::4]:
    put("tokenizer", c["text"])
for raw in [b"\xff\xfe", b"abc\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"<|start|>user<|message|>hi<|end|>",
            b"\x01\xff ", b"\x01\x40 a", b"\x01\xff0123456789", b"\x01\x80\xe4\xb8\xad", b"\x01\x20!!!?"]:
    put("tokenizer", raw)

# harmony_parser: byte-coded token streams (fuzz/fuzz_harmony_parser.cpp): a byte < 0x20
# is the special 199998 + byte, ASCII is itself, 0x80|hi, mid, lo is any id.
START, END, MSG, CHAN, CONSTRAIN, RET, CALL = 8, 9, 10, 7, 5, 4, 14
def b(*parts):
    return bytes([0]) + b"".join(bytes([p]) if isinstance(p, int) else p for p in parts)
put("harmony_parser", b(CHAN, b"analysis", MSG, b"Let me think.", END, START, b"assistant", CHAN, b"final", MSG,
                        b"Hello!", RET))
put("harmony_parser", b(b" to=functions.get_weather", CHAN, b"commentary ", CONSTRAIN, b"json", MSG,
                        b'{"city":"Paris"}', CALL))
put("harmony_parser", b(b"plain text, no header", START, b"assistant", CHAN, b"final", MSG, b"cut"))
def id_bytes(ids):
    out = b""
    for i in ids:
        out += bytes([i - 199998]) if 199998 <= i <= 200029 else bytes([0x80 | i >> 16, (i >> 8) & 0xFF, i & 0xFF])
    return bytes([1]) + out

render_cases = json.load(open(os.path.join(DATA, "harmony", "render_cases.json"), encoding="utf-8"))
for c in render_cases[:4]:
    put("harmony_parser", id_bytes(c["ids"][-200:]))

# chat_render: the render cases' requests.
for c in render_cases:
    put("chat_render", json.dumps(c["input"], ensure_ascii=False))

# openai_request: OpenAI chat and completion bodies the gateway maps (gateway/openai_request.h).
tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
for body in [
    {"model": "gpt-oss", "messages": [{"role": "user", "content": "hi"}]},
    {"messages": [{"role": "system", "content": "be brief"}, {"role": "developer", "content": "no lists"},
                  {"role": "user", "content": [{"type": "text", "text": "weather?"}]}],
     "tools": [tool], "tool_choice": "auto", "max_completion_tokens": 64, "temperature": 0.7, "top_p": 0.9,
     "seed": 3, "stop": ["\n\n"], "reasoning_effort": "low", "stream": True,
     "stream_options": {"include_usage": True}},
    {"messages": [{"role": "user", "content": "weather in Paris?"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": "call_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}], "tools": [tool]},
    {"messages": [{"role": "user", "content": "x"}], "n": 2, "logprobs": True},
    {"model": "gpt-oss", "prompt": "Once upon a time", "max_tokens": 16, "stream": False},
    {"prompt": ["a", "b"], "echo": True},
    {"prompt": [1, 2, 3], "max_tokens": 4},
]:
    put("openai_request", json.dumps(body))
