"""Probes of ``network_pytorch.py`` (runs in the child, next to the team's code; measures, never judges).

Inputs (from :func:`ffnn.check.torch_part.inputs`): ``x`` and ``labels`` the
probe batch, ``pw_*`` weights under which the probe samples get different
classes (for ``predict``), ``train_x``, ``train_labels``, ``val_x`` the
learning protocol's data.
"""
from __future__ import annotations

import importlib

import numpy as np

from .protocol import PROBE_RATE, PROBE_SIZES, TORCH_EPOCHS, TORCH_RATES, TORCH_SIZES


def _linears(net) -> list:
    import torch

    return [(name, m) for name, m in net.named_modules() if isinstance(m, torch.nn.Linear)]


def _zero_grad(net) -> None:
    opt = getattr(net, "optimizer", None)
    if opt is not None and hasattr(opt, "zero_grad"):
        opt.zero_grad()
    net.zero_grad()


def _one_hot(torch, labels):
    # As the template's fit hands them over: one-hot rows of integers.
    return torch.nn.functional.one_hot(torch.as_tensor(labels, dtype=torch.int64), 10)


def _step(net, torch, x, labels) -> None:
    """One step of the template's loop: zero_grad, forward, backward, update."""
    _zero_grad(net)
    output = net._forward_pass(x)
    net._backward_pass(_one_hot(torch, labels), output)
    net._update_weights()


def _numpy(t) -> np.ndarray:
    return np.asarray(t.detach().cpu().double().numpy()) if hasattr(t, "detach") else np.asarray(t, dtype=float)


def run(rec, inputs) -> None:
    with rec.probe("import") as (facts, arrays):
        import torch

        torch.set_num_threads(1)
        module = importlib.import_module("network_pytorch")
        NeuralNetworkTorch = module.NeuralNetworkTorch
        facts["torch"] = torch.__version__
    later = ("build", "architecture", "output_loss", "optimizer_params", "predict", "learns")
    if not rec.probes["import"]["ok"]:
        for name in later:
            rec.failed(name, "import")
        return
    x = torch.tensor(inputs["x"], dtype=torch.float32)
    labels = inputs["labels"]
    with rec.probe("build") as (facts, arrays):
        net = NeuralNetworkTorch(list(PROBE_SIZES), epochs=1, learning_rate=PROBE_RATE, random_state=1)
        state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if not rec.probes["build"]["ok"]:
        for name in later[1:5]:
            rec.failed(name, "build")
    else:
        with rec.probe("architecture") as (facts, arrays):
            linears = _linears(net)
            facts["linears"] = [[name, m.in_features, m.out_features, m.bias is not None] for name, m in linears]
            for i, (_, m) in enumerate(linears):
                arrays[f"W{i}"] = _numpy(m.weight)
                if m.bias is not None:
                    arrays[f"b{i}"] = _numpy(m.bias)
            with torch.no_grad():
                arrays["out"] = _numpy(net._forward_pass(x.clone()))
        with rec.probe("output_loss") as (facts, arrays):
            net.load_state_dict(state)
            captured = []

            def keep(module, args, output):
                output.retain_grad()
                captured.append(output)

            hook = _linears(net)[-1][1].register_forward_hook(keep)
            _zero_grad(net)
            output = net._forward_pass(x.clone())
            hook.remove()
            facts["output_requires_grad"] = bool(getattr(output, "requires_grad", False))
            net._backward_pass(_one_hot(torch, labels), output)
            if not captured:
                raise RuntimeError("the forward pass did not go through the last nn.Linear layer")
            arrays["logits"] = _numpy(captured[-1])
            arrays["output"] = _numpy(output)
            facts["logits_have_grad"] = captured[-1].grad is not None
            if captured[-1].grad is not None:
                arrays["dlogits"] = _numpy(captured[-1].grad)
        with rec.probe("optimizer_params") as (facts, arrays):
            net.load_state_dict(state)
            names = {id(p): n for n, p in net.named_parameters()}
            opt = getattr(net, "optimizer", None)
            facts["has_optimizer"] = opt is not None and hasattr(opt, "param_groups")
            held = {id(p) for g in opt.param_groups for p in g["params"]} if facts["has_optimizer"] else set()
            facts["parameters"] = list(names.values())
            facts["not_in_optimizer"] = [n for i, n in names.items() if i not in held]
            before = {n: _numpy(p).copy() for n, p in net.named_parameters()}
            _step(net, torch, x.clone(), labels)
            for k, (n, p) in enumerate(net.named_parameters()):
                arrays[f"before{k}"] = before[n]
                arrays[f"after{k}"] = _numpy(p)
        with rec.probe("predict") as (facts, arrays):
            net.load_state_dict(state)
            linears = _linears(net)
            if [tuple(m.weight.shape) for _, m in linears] == [inputs[f"pw_{i}"].shape for i in range(len(linears))]:
                with torch.no_grad():
                    for i, (_, m) in enumerate(linears):
                        m.weight.copy_(torch.tensor(inputs[f"pw_{i}"]))
                        if m.bias is not None:
                            m.bias.zero_()
                facts["spread_weights"] = True
            with torch.no_grad():
                arrays["out"] = _numpy(net._forward_pass(x.clone()))
            for shape_name, batch in (("flat", x.clone()), ("images", x.clone().reshape(-1, 1, 28, 28))):
                try:
                    with torch.no_grad():
                        got = net.predict(batch)
                    arrays[f"pred_{shape_name}"] = _numpy(got) if hasattr(got, "detach") else np.asarray(got)
                    facts[f"type_{shape_name}"] = type(got).__name__
                except Exception as exc:  # noqa: BLE001 - the image batch may fail where the flat one works
                    from .child import last_line

                    facts[f"error_{shape_name}"] = last_line(exc)
    with rec.probe("learns") as (facts, arrays):
        train_x = torch.tensor(inputs["train_x"], dtype=torch.float32)
        val_x = torch.tensor(inputs["val_x"], dtype=torch.float32)
        train_labels = inputs["train_labels"]
        for r, rate in enumerate(TORCH_RATES):
            net = NeuralNetworkTorch(list(TORCH_SIZES), epochs=TORCH_EPOCHS, learning_rate=rate, random_state=1)
            for epoch in range(TORCH_EPOCHS):
                for i in range(len(train_x)):
                    _step(net, torch, train_x[i:i + 1], train_labels[i:i + 1])
                with torch.no_grad():
                    arrays[f"train_out{r}_{epoch}"] = _numpy(net._forward_pass(train_x))
                    arrays[f"val_out{r}_{epoch}"] = _numpy(net._forward_pass(val_x))
            facts["rates"] = r + 1
