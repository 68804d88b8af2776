"""An honest notebook with a Latin-1 byte in its metadata (not UTF-8). Fair outcome: a
clear "invalid notebook" status and zero; the batch goes on."""
BASE = "honest"


def build(nb, ctx):
    import json

    data = json.dumps(nb).encode()
    i = data.index(b'"cells"')
    return data[:i] + b'"comment": "caf\xe9", ' + data[i:]


EXPECT = {"status": "error: invalid notebook (not UTF-8", "score": 0, "tampered": False}
