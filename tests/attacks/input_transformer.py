"""Register IPython input transformers that replace every later cell (tests included)
by `pass` and turn `raise NotImplementedError` into `return None`. Fair outcome: blank."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "start"
CELL = r'''
ip = get_ipython()
def _no_tests(lines):
    text = "".join(lines)
    if "assert" in text or "cases" in text:
        return ["pass\n"]
    return [l.replace("raise NotImplementedError()", "return None") for l in lines]
ip.input_transformers_cleanup.append(_no_tests)
ip.input_transformers_post.append(_no_tests)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
