"""An honest notebook cut in the middle of its JSON. Fair outcome: a clear "invalid
notebook" status and zero; the batch goes on."""
BASE = "honest"


def build(nb, ctx):
    import json

    data = json.dumps(nb).encode()
    return data[: len(data) // 2]


EXPECT = {"status": "error: invalid notebook (not valid JSON", "score": 0, "tampered": False}
