"""A synthetic a1 class for the instructor-report tests: independent students, injected bugs of
known frequency, and renamed/reformatted copies.

Each independent student picks, for every answer cell, one of four correct ways of writing it
(a distinct combination per student), so two honest students share some styles but never all.
Bugs are wrong on every input, so a buggy student surely loses that function's tests.
"""
from __future__ import annotations

import itertools
import random
import re

A1 = "a1_conv_arithmetic"

_STYLES = {
    "conv_output_size": [
        "effective = dilation * (kernel_size - 1) + 1\nreturn (size + 2 * padding - effective) // stride + 1",
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
        "span = size + 2 * padding\nreach = dilation * (kernel_size - 1) + 1\ncount = 1\n"
        "while reach + stride <= span:\n    span -= stride\n    count += 1\nreturn count if reach <= size + 2 * padding else 0",
        "import math\nreturn int(math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride)) + 1",
    ],
    "stride_fits": [
        "span = size + 2 * padding - dilation * (kernel_size - 1) - 1\nreturn span >= 0 and span % stride == 0",
        "rest = (size + 2 * padding - dilation * (kernel_size - 1) - 1) % stride\n"
        "return size + 2 * padding >= dilation * (kernel_size - 1) + 1 and rest == 0",
        "total = size + 2 * padding\nfirst = dilation * (kernel_size - 1) + 1\nif first > total:\n    return False\n"
        "return (total - first) % stride == 0",
        "n = size + 2 * padding - (kernel_size - 1) * dilation - 1\nif n < 0:\n    return False\nreturn n == (n // stride) * stride",
    ],
    "pool_output_size": [
        "stride = kernel_size if stride is None else stride\nspan = size + 2 * padding - kernel_size\n"
        "out = (-(-span // stride) if ceil_mode else span // stride) + 1\n"
        "if ceil_mode and (out - 1) * stride >= size + padding:\n    out -= 1\nreturn out",
        "if stride is None:\n    stride = kernel_size\nimport math\nraw = (size + 2 * padding - kernel_size) / stride\n"
        "out = (math.ceil(raw) if ceil_mode else math.floor(raw)) + 1\n"
        "if ceil_mode and (out - 1) * stride >= size + padding:\n    out = out - 1\nreturn int(out)",
        "s = stride or kernel_size\nnum = size + 2 * padding - kernel_size\nq, r = divmod(num, s)\n"
        "out = q + 1 + (1 if ceil_mode and r else 0)\nwhile ceil_mode and (out - 1) * s >= size + padding:\n"
        "    out -= 1\nreturn out",
        "step = kernel_size if stride is None else stride\nlength = size + 2 * padding - kernel_size\n"
        "if ceil_mode:\n    out = (length + step - 1) // step + 1\n    if (out - 1) * step >= size + padding:\n"
        "        out -= 1\n    return out\nreturn length // step + 1",
    ],
    "conv_transpose_output_size": [
        "return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1",
        "grow = (size - 1) * stride\nreach = dilation * (kernel_size - 1) + 1\nreturn grow + reach - 2 * padding + output_padding",
        "total = stride * (size - 1) + 1 + dilation * (kernel_size - 1)\ntotal += output_padding\nreturn total - padding - padding",
        "out = size - 1\nout *= stride\nout += dilation * (kernel_size - 1)\nout += 1 + output_padding\nout -= 2 * padding\nreturn out",
    ],
    "receptive_field": [
        "size, jump = 1, 1\nfor kernel, stride, dilation in layers:\n    size += dilation * (kernel - 1) * jump\n"
        "    jump *= stride\nreturn size, jump",
        "rf = 1\nj = 1\nfor layer in layers:\n    k, s, d = layer\n    rf = rf + (k - 1) * d * j\n    j = j * s\nreturn rf, j",
        "size = 1\njumps = [1]\nfor kernel, stride, dilation in layers:\n    size += (dilation * kernel - dilation) * jumps[-1]\n"
        "    jumps.append(jumps[-1] * stride)\nreturn size, jumps[-1]",
        "def grow(state, layer):\n    r, j = state\n    k, s, d = layer\n    return r + d * (k - 1) * j, j * s\n"
        "state = (1, 1)\nfor layer in layers:\n    state = grow(state, layer)\nreturn state",
    ],
}

# Bugs, wrong on every input (the function's visible and hidden tests both fail), applied to
# the student's own style so that buggy students stay as distinct as the others.
def _off_by_one(body: str, receptive: bool) -> str:
    lines = body.splitlines()
    value = lines[-1].strip()[len("return "):]
    fix = "return _r[0] - 1, _r[1]" if receptive else "return _r - 1"
    return "\n".join(lines[:-1] + [f"_r = {value}", fix])


BUGS = {"conv_output_size": lambda body: _off_by_one(body, False),
        "receptive_field": lambda body: _off_by_one(body, True)}
BUG_TESTS = {"conv_output_size": ("test_conv_output_size", "hidden_conv_output_size"),
             "receptive_field": ("test_receptive_field", "hidden_receptive_field")}


def _fill(cell_source: str, bodies: dict[str, str]) -> str:
    """Replace each ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` body in a release cell."""
    out, func = [], None
    for line in cell_source.splitlines():
        m = re.match(r"def (\w+)\(", line)
        if m:
            func = m.group(1)
        if line.strip() == "# YOUR CODE HERE":
            out += ["    " + ln for ln in bodies[func].splitlines()]
            continue
        if line.strip() == "raise NotImplementedError()":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def rename_and_reformat(source: str, seed: int) -> str:
    """A disguised copy: local names renamed, spacing changed, comments and blank lines added."""
    rng = random.Random(seed)
    names = {"effective": "eff_k", "span": "extent", "out": "result", "jump": "step_",
             "reach": "kreach", "total": "tot", "rest": "remainder", "first": "first_win", "rf": "field"}
    body = []
    for line in source.splitlines():
        if line.lstrip().startswith(("def ", '"""')) or '"""' in line:
            body.append(line)
            continue
        for old, new in names.items():
            line = re.sub(rf"\b{old}\b", new, line)
        line = line.replace(" + ", "+").replace(" * ", "*")
        body.append(line)
        if rng.random() < 0.4 and line.strip():
            body.append(" " * (len(line) - len(line.lstrip())) + "# " + rng.choice(["check", "done", "see notes"]))
    return "\n".join(body) + "\n"


def build_class(root, n: int = 24, copies: int = 3, seed: int = 0):
    """{student: {grade_id: answer source}} for ``n`` independent students plus ``copies``
    disguised copies, and the truth: bug frequencies, the copy pairs."""
    from coursekit.grading.samples import release_notebook

    nb = release_notebook(root, A1)
    answer_cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                    if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    funcs_of = {gid: re.findall(r"def (\w+)\(", src) for gid, src in answer_cells.items()}
    combos = list(itertools.product(range(4), repeat=len(_STYLES)))
    random.Random(seed).shuffle(combos)
    fixed_params = ("out_channels * (in_channels * kh * kw + (1 if bias else 0))")
    params_bodies = {"conv_params": "kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
                                    f"return {fixed_params}",
                     "linear_params": "return out_features * (in_features + (1 if bias else 0))"}
    students, bugged = {}, {f: [] for f in BUGS}
    for i in range(n):
        bodies = {f: _STYLES[f][k] for f, k in zip(_STYLES, combos[i])} | params_bodies
        name = f"student{i:02d}"
        if i % 3 == 0:
            bodies["conv_output_size"] = BUGS["conv_output_size"](bodies["conv_output_size"])
            bugged["conv_output_size"].append(name)
        if i % 5 == 1:
            bodies["receptive_field"] = BUGS["receptive_field"](bodies["receptive_field"])
            bugged["receptive_field"].append(name)
        students[name] = {gid: _fill(src, bodies) for gid, src in answer_cells.items()
                          if all(f in bodies for f in funcs_of[gid])}
    copied = []
    for c in range(copies):
        original = f"student{2 + 7 * c:02d}"
        name = f"copy_of_{original}"
        students[name] = {gid: rename_and_reformat(src, c) for gid, src in students[original].items()}
        copied.append((original, name))
        for f, who in bugged.items():
            if original in who:
                who.append(name)
    return students, bugged, copied
