"""``python -m gradflow`` and the ``gradflow`` script: the command, with Ctrl-C handled from the first
import on (the command's modules take a moment to import; an interrupt then is exit code 130 too)."""

import os
import signal
import sys

_interrupted_while_importing = []


def _on_sigint(signum, frame):
    _interrupted_while_importing.append(signum)  # remembered: a library's import may swallow the exception
    raise KeyboardInterrupt


_LLVMLITE_BINDING = os.path.join("llvmlite", "binding", "")


def _inside_llvmlite(frame) -> bool:
    while frame is not None:
        if _LLVMLITE_BINDING in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _interrupt(signum, frame):
    """Ctrl-C as KeyboardInterrupt, except while llvmlite's Python code runs (LLVM calls it back through
    ctypes while Numba compiles, and ctypes swallows an exception raised there: the interrupt was lost,
    or Numba's compilation was left half done and failed later with another error); then as soon as
    that code has returned, checked every 10 ms."""
    if _inside_llvmlite(frame) and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        return
    raise KeyboardInterrupt


def command() -> int:
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        from gradflow.derivations.cli import main
    except KeyboardInterrupt:
        _interrupted_while_importing.append(signal.SIGINT)
    signal.signal(signal.SIGINT, _interrupt)
    if _interrupted_while_importing:
        sys.stderr.write("gradflow: interrupted\n")
        code = 130
    else:
        code = main()
    if code == 130:
        _exit_interrupted()
    return code


def _exit_interrupted() -> None:
    # The command has cleaned up (its finally blocks ran).  A Ctrl-C that reached the interpreter inside a
    # C extension can leave CPython's "unhandled KeyboardInterrupt" flag set, and the interpreter would then
    # end itself by SIGINT instead of returning exit code 130: leave without the interpreter's shutdown.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


if __name__ == "__main__":
    sys.exit(command())
