"""What a grading status means for the student, and what to do about it.

Every submission ends with one status (:attr:`coursekit.grading.runner.SubmissionResult.status`):
``graded``, ``timeout`` or ``error: <what> <where>``. The status names what happened and where;
:func:`advice` adds, in one or two sentences, why it can happen to an honest notebook and what
the student does next. Feedback shows both. A status caused by the grading machine rather than
the notebook says so: the student has nothing to fix and the instructor regrades.
"""
from __future__ import annotations

REGRADE = ("This is a problem of the grading machine, not of your notebook: nothing to fix; "
           "your instructor regrades it (quote this status if you ask).")

# (status prefix, advice); the first prefix that matches wins. {cell}, {total}, {memory} are
# the assignment's limits (:class:`coursekit.grading.limits.GradingLimits`).
_ADVICE = (
    ("graded", ""),
    ("timeout", "Your notebook ran longer than all graded work may take together ({total} s; each "
                "answer cell and each graded call {cell} s). Run Kernel > Restart & Run All and "
                "`coursekit check` on your notebook; make the slow cells faster (vectorize loops, "
                "train for fewer steps) and submit again."),
    ("error: memory limit", "Your code used more memory than the limit ({memory} MiB) where the status "
                            "says. Look there for a very large array (an (N, N) matrix, outputs of every "
                            "batch kept in a list); shrink or free it and submit again."),
    ("error: kernel died", "Python stopped where the status says without raising an error (a crash in a "
                           "C library, os._exit(), or a signal). Run Kernel > Restart & Run All: if the "
                           "kernel dies there too, find the line that does it; if the notebook runs to "
                           "the end, ask your instructor to regrade, quoting this status."),
    ("error: cpu limit", "Your code used more CPU time than the whole grading run allows ({total} s of "
                         "graded work): make the slow cells faster and submit again."),
    ("error: output limit", "Your code printed more than the grader can keep: print less (a summary "
                            "instead of every step) and submit again."),
    ("error: result limit", "A graded function returned a value far larger than the tests expect: "
                            "return what its docstring asks for (e.g. an array of the stated shape) "
                            "and submit again."),
    ("error: file size limit", "Your code wrote a file larger than grading allows: write no large files "
                               "in your notebook (save data only in your own experiments, outside the "
                               "submission) and submit again."),
    ("error: missing notebook", "No assignment notebook was found in your submission: submit the "
                                ".ipynb file itself (not a link, a zip or a copy with another extension) "
                                "and submit again."),
    ("error: invalid notebook", "The submitted file could not be read as a notebook (the status says "
                                "why). Open it in Jupyter and save it again; if it does not open, fetch "
                                "the assignment again, copy your answers in, and submit again."),
    ("error: submission changed during grading", "Files of your submission changed while it was being "
                                                 "graded (a resubmission, a sync). " + REGRADE),
    ("error: sandbox", REGRADE),
    ("error: grader failed", REGRADE),
    ("error: could not", REGRADE),
    ("error: not graded", REGRADE),
)
DEFAULT = "Ask your instructor, quoting this status: it is not one the grader expects."


def advice(status: str, policy=None) -> str:
    """One or two sentences for the student: why ``status`` can happen, and what to do ("" for
    ``graded``). ``policy``: the assignment's :class:`~coursekit.grading.limits.GradingLimits`
    (default limits when None), whose numbers the advice quotes."""
    from .limits import GradingLimits

    p = policy if policy is not None else GradingLimits()
    for prefix, text in _ADVICE:
        if status == prefix or status.startswith((prefix + " ", prefix + ":")):
            return text.format(cell=f"{p.cell_timeout:g}", total=f"{p.total_timeout:g}", memory=p.memory_mb)
    return DEFAULT
