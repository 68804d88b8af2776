"""Send the trusted parent a forged result frame: a deflated .npz member that expands to
768 MiB (a zip bomb, ~1 MB on the wire), then the honest results. Fair outcome: the honest
score, and the grader's memory does not blow up (the test checks its peak RSS)."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import io, os, struct, zipfile
fd = int(os.environ.get("COURSEKIT_RESULT_FD", "3"))
n = 768 * 1024 * 1024
header = b"\x93NUMPY\x01\x00"
dic = ("{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }" % n).encode()
dic += b" " * (64 - (len(header) + 2 + len(dic) + 1) % 64) + b"\n"
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    with z.open("__json__.npy", "w", force_zip64=True) as f:
        f.write(header + struct.pack("<H", len(dic)) + dic)
        zeros = bytes(1 << 22)
        for _ in range(n >> 22):
            f.write(zeros)
payload = buf.getvalue()
os.write(fd, b"CKR1" + struct.pack(">Q", len(payload)) + payload)
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
