# The observation rules of AlphaMath's `python_interpreter` tool (reference §3), written anew.
#
# Loaded as a module by server.py (inside the sandbox) and by the one-shot benchmark baseline.
# Everything that decides the observation text lives here, so it can be compared line by line
# with the reference: which statements' output is captured, the multi-print prefixes, float
# rounding, the 500-character cut and `Type: message` errors.

import ast
import builtins
import io
import re
from contextlib import redirect_stdout

MAX_LENGTH = 500
# Text that print() sends to captured stdout is kept in full up to this many characters; past
# it only the last MAX_LENGTH // 2 characters are kept, which is all the cut below ever shows.
CAPTURE_KEEP = 1 << 16


def truncate_string(text, max_length=MAX_LENGTH, is_evalf=True):
    # A str that parses as a float is replaced by its 4-decimal rounding when that is not longer.
    if is_evalf and isinstance(text, str):
        try:
            rounded = str(round(float(text), 4)) + "\n"
            if len(text) >= len(rounded):
                text = rounded
        except Exception:
            pass
    if len(str(text)) > max_length:
        return str(text)[: max_length // 2] + "..." + str(text)[-max_length // 2 :]
    return text


def extract_content(source):
    """The prefix of a multi-print segment: every `print(...)` argument text, then a colon."""
    found = re.findall(r"print\((.*?)\)", source)
    if not found:
        return ""
    return " ".join(found) + ":"


def _is_print_node(node):
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
    ):
        return True
    # Only these compound statements are looked into, and only their main body.
    if isinstance(node, (ast.If, ast.While, ast.For, ast.FunctionDef)):
        return any(_is_print_node(sub) for sub in node.body)
    return False


def sanitize_input(query):
    """Strip the ```python fences (and whitespace) the policy writes around its code."""
    query = re.sub(r"^(\s|`)*(?i:python)?\s*", "", query)
    return re.sub(r"(\s|`)*$", "", query)


class BoundedCapture(io.StringIO):
    """A StringIO for captured stdout whose memory stays bounded whatever the code prints.

    Up to CAPTURE_KEEP characters are stored; past that the middle is dropped and the last
    characters kept, so the 500-character cut of truncate_string gives the same text as with
    the whole output.
    """

    def __init__(self):
        super().__init__()
        self._stored = 0
        self._tail = ""
        self._overflowed = False

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"string argument expected, got '{type(s).__name__}'")
        tail_keep = MAX_LENGTH // 2
        self._tail = (self._tail + s[-tail_keep:])[-tail_keep:]
        room = CAPTURE_KEEP - self._stored
        if len(s) <= room:
            super().write(s)
            self._stored += len(s)
        else:
            if room > 0:
                super().write(s[:room])
                self._stored += room
            self._overflowed = True
        return len(s)

    def getvalue(self):
        if self._overflowed:
            return super().getvalue() + self._tail
        return super().getvalue()


def reference_namespace():
    """Fresh globals resembling the reference's: it ran code in its `tree.py` module globals.

    So `__name__` is that module's (an `if __name__ == "__main__":` block does not run) and the
    names that module imported are defined. Names leaked by earlier executions are not: every
    execution starts from this and replays its ancestors instead (reference §3.1).
    """
    import os
    import typing
    from abc import abstractmethod

    namespace = {"__name__": "mcts_math.agents.tree", "__builtins__": builtins}
    namespace["os"] = os
    namespace["abstractmethod"] = abstractmethod
    for name in ("Optional", "Any", "Dict", "List", "Callable", "Type", "Tuple", "Union"):
        namespace[name] = getattr(typing, name)
    return namespace


def _error_text(exc):
    return "{}: {}".format(type(exc).__name__, str(exc))


class Tool:
    """One interpreter namespace; `run` gives the reference tool's output for a snippet."""

    def __init__(self, namespace):
        self.globals = namespace
        self.raised = False

    def _sub_run(self, body):
        buffer = BoundedCapture()
        exec(ast.unparse(ast.Module(body[:-1], type_ignores=[])), self.globals, None)
        last = ast.unparse(ast.Module(body[-1:], type_ignores=[]))
        try:
            with redirect_stdout(buffer):
                value = eval(last, self.globals, None)
                if value is None:
                    return truncate_string(buffer.getvalue())
                return truncate_string(value)
        except Exception:
            # Not an expression (or it raised): run it as a statement, same buffer.
            with redirect_stdout(buffer):
                exec(last, self.globals, None)
            return truncate_string(buffer.getvalue())

    def _base_run(self, query):
        try:
            query = sanitize_input(query)
            tree = ast.parse(query)
            print_indices = [i for i, node in enumerate(tree.body) if _is_print_node(node)]
            if not print_indices:
                print_indices = [len(tree.body) - 1]
            if len(print_indices) == 1:
                return f"{self._sub_run(tree.body)}"
            # Several prints: one segment per print, each prefixed by its print arguments;
            # statements after the last print never run.
            parts = []
            for start, end in zip([-1] + print_indices, print_indices):
                source = ast.get_source_segment(query, tree.body[end])
                output = self._sub_run(tree.body[start + 1 : end + 1])
                parts.append(f"{extract_content(source)} {output}")
            return "".join(parts)
        except Exception as exc:
            self.raised = True
            return _error_text(exc)

    def run(self, query):
        try:
            return self._base_run(query)
        except Exception as exc:
            self.raised = True
            return _error_text(exc)


def execute(ancestors, code, namespace=None):
    """Replay `ancestors` (their output discarded), then run `code`.

    Returns (observation, raised): the observation stripped as the reference's
    `code_execution` does, and whether the code's own run ended in an exception.
    """
    tool = Tool(reference_namespace() if namespace is None else namespace)
    try:
        for snippet in ancestors:
            tool.run(snippet)
        tool.raised = False
        observation = str(tool.run(code)).strip()
        return observation, tool.raised
    except Exception as exc:
        return _error_text(exc), True
