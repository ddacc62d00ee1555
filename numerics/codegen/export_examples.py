"""Small runnable example calls for exported generated modules, one per kind of module.

The kind is read from the functions a module defines and the order lines its generator wrote into
the module docstring (``State order: m``, ``Parameter order: p, M, eta``, ``Parameters: W (m, d)``).
Each example is a doctest: it imports the module by its exported name, calls one kernel on tiny
arrays of the right shapes and checks the result is finite.
"""

from __future__ import annotations

import re


def _order(text: str, label: str) -> list:
    match = re.search(rf"^{label}:[ \t]*(.*)$", text, re.M)
    return [s.strip() for s in match.group(1).split(",") if s.strip()] if match else []


def _lane_example(text: str, name: str, kernel: str, what: str) -> str:
    states, params = _order(text, "State order"), _order(text, "Parameter order")
    n, k = len(states), len(params)
    return (f"Example ({what} of one lane; states {', '.join(states)}; parameters {', '.join(params) or 'none'}):\n\n"
            f">>> import numpy as np\n"
            f">>> from {name} import {kernel}\n"
            f">>> x, q, out = np.full({n}, 0.5), np.ones({k}), np.empty({n})\n"
            f">>> {kernel}(x, q, out)\n"
            f">>> bool(np.isfinite(out).all())\n"
            f"True\n")


def _shallow_example(name: str) -> str:
    return ("Example (loss and gradients for n = 3 samples, m = 2 neurons, d = 2 inputs, d_out = 1):\n\n"
            ">>> import numpy as np\n"
            f">>> from {name} import constants, loss_and_gradients_loops\n"
            ">>> rng = np.random.default_rng(0)\n"
            ">>> W, H = rng.normal(size=(2, 2)), rng.normal(size=(2, 1))\n"
            ">>> X, Y = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))\n"
            ">>> consts = np.array(constants(3, 2, 2, 1))\n"
            ">>> grad_W, grad_H = np.empty_like(W), np.empty_like(H)\n"
            ">>> loss = loss_and_gradients_loops(W, H, X, Y, consts, grad_W, grad_H)\n"
            ">>> bool(np.isfinite(loss)) and bool(np.isfinite(grad_W).all() and np.isfinite(grad_H).all())\n"
            "True\n")


_SHAPED = re.compile(r"([A-Za-z_]\w*) \(([^()]*)\)")


def _sizes(shapes: list, sizes: dict):
    """Each shape with its size symbols given small distinct values (N -> 2, M -> 3, ...); None when a
    size is neither a symbol nor an integer."""
    out = []
    for shape in shapes:
        dims = []
        for dim in (d.strip() for d in shape.split(",") if d.strip()):
            if dim.isdigit():
                dims.append(int(dim))
            elif dim.isidentifier():
                dims.append(sizes.setdefault(dim, len(sizes) + 2))
            else:
                return None
        out.append(tuple(dims))
    return out


def _matrix_example(text: str, name: str) -> str | None:
    state = re.search(r"^State: " + _SHAPED.pattern + r"$", text, re.M)
    data = re.search(r"^Data shapes: (.*)$", text, re.M)
    if not (state and data):
        return None
    pairs = _SHAPED.findall(data.group(1))
    sizes = {}
    shapes = _sizes([state.group(2)] + [shape for _, shape in pairs], sizes)
    if shapes is None:
        return None
    names = [a for a, _ in pairs]
    arrays = ", ".join(f"rng.random({s})" for s in shapes[1:])
    sized = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    return (f"Example (the velocity of the state {state.group(1)} with {sized}; random data):\n\n"
            f">>> import numpy as np\n"
            f">>> from {name} import velocity\n"
            f">>> rng = np.random.default_rng(0)\n"
            f">>> X = rng.random({shapes[0]})\n"
            f">>> {', '.join(names)}{',' if len(names) == 1 else ''} = {arrays}{',' if len(names) == 1 else ''}\n"
            f">>> V = velocity(X, {', '.join(names)})\n"
            f">>> V.shape == X.shape and bool(np.isfinite(V).all())\n"
            f"True\n")


def _squared_example(text: str, name: str) -> str | None:
    states = _order(text, "State order")
    shaped = re.search(r"^Shapes: (.*)$", text, re.M)
    if not (states and shaped):
        return None
    pairs = _SHAPED.findall(shaped.group(1))
    sizes = {}
    shapes = _sizes([shape for _, shape in pairs], sizes)
    if shapes is None:
        return None
    names = [a for a, _ in pairs]
    one = "," if len(names) == 1 else ""
    state_tuple = ", ".join(states) + ("," if len(states) == 1 else "")
    return (f"Example (the gradient-flow velocities with {', '.join(f'{k} = {v}' for k, v in sizes.items())}; "
            f"random arrays):\n\n"
            f">>> import numpy as np\n"
            f">>> from {name} import velocities\n"
            f">>> rng = np.random.default_rng(0)\n"
            f">>> {', '.join(names)}{one} = {', '.join(f'rng.random({s})' for s in shapes)}{one}\n"
            f">>> rates = velocities({', '.join(names)})\n"
            f">>> all(r.shape == s.shape and bool(np.isfinite(r).all()) for r, s in zip(rates, ({state_tuple})))\n"
            f"True\n")


def _mlp_example(text: str, name: str) -> str | None:
    tanh, identity = re.search(r"(\d+) tanh\b", text), re.search(r"(\d+) identity\b", text)
    if not (tanh and identity):
        return None
    t, i = tanh.group(1), identity.group(1)
    return ("Example (loss and gradient of a 2-3-1 network: tanh hidden units with biases, a linear output, "
            "mean squared error over 5 samples):\n\n"
            ">>> import numpy as np\n"
            f">>> from {name} import part_addresses, gradient_chunk\n"
            ">>> widths, biases = np.array([2, 3, 1], dtype=np.int64), np.array([1, 0], dtype=np.int64)\n"
            ">>> offsets = np.array([0, 9, 12], dtype=np.int64)  # W_1 is 3 x (2 + 1), W_2 is 1 x 3\n"
            f">>> codes = np.array([{t}, {t}, {t}, {i}], dtype=np.int64)  # tanh, tanh, tanh, identity\n"
            ">>> prms = np.zeros((4, 1))\n"
            ">>> rng = np.random.default_rng(0)\n"
            ">>> theta, X, T = rng.normal(size=12), rng.normal(size=(5, 2)), rng.normal(size=(5, 1))\n"
            ">>> w, grad = np.full(5, 1 / 5), np.zeros(12)\n"
            ">>> parts = part_addresses()  # where the compiled code of the pieces every kernel calls is\n"
            ">>> loss = gradient_chunk(theta, X, T, w, 0, 5, widths, biases, offsets, codes, prms, parts, 0, 1.0, grad)\n"
            ">>> bool(np.isfinite(loss)) and bool(np.isfinite(grad).all() and np.any(grad != 0))\n"
            "True\n")


def _population_kernel_example(name: str) -> str:
    return ("Example (the kernel of two pairs of neurons and its derivatives in (a, b, c, p, q): squared norms "
            "a, b, inner product c with |c| < sqrt(a b), biases p, q):\n\n"
            ">>> import numpy as np\n"
            f">>> from {name} import pair_derivatives\n"
            ">>> A, B, C = np.array([1.0, 2.0]), np.array([1.5, 1.0]), np.array([0.3, -0.5])\n"
            ">>> P, Q = np.array([0.1, 0.0]), np.array([-0.2, 0.3])\n"
            ">>> value, gradient, hessian = np.zeros(2), np.zeros((2, 5)), np.zeros((2, 5, 5))\n"
            ">>> pair_derivatives(A, B, C, P, Q, value, gradient, hessian)\n"
            ">>> bool(np.isfinite(value).all() and np.isfinite(gradient).all() and np.isfinite(hessian).all())\n"
            "True\n")


def example_for(text: str, name: str) -> str | None:
    """A doctest calling the module ``text`` (exported as ``name``), or None for a kind without one yet."""
    if "cuda.jit" in text:  # CUDA kernels need a GPU: no example that runs everywhere
        return None
    if "def lane_update(x, q, out):" in text:
        return _lane_example(text, name, "lane_update", "one step of the map")
    if "def lane_rhs(x, q, out):" in text:
        return _lane_example(text, name, "lane_rhs", "the right-hand side")
    if "def loss_and_gradients_loops(W, H, X, Y, consts, grad_W, grad_H):" in text and "def constants(" in text:
        return _shallow_example(name)
    if "def velocity(X, " in text and "Data shapes: " in text:
        return _matrix_example(text, name)
    if "def gradient_chunk(theta, X, T, w, start, stop, widths, biases, offsets, codes, prms, parts, loss_kind," in text:
        return _mlp_example(text, name)
    if "def pair_derivatives(A, B, C, P, Q, value, gradient, hessian):" in text:
        return _population_kernel_example(name)
    if "def velocities(" in text and "\nShapes: " in text:
        return _squared_example(text, name)
    return None
