"""The README's Python quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs():
    """Executes every ```python block of the README in one namespace; the blocks assert nothing
    themselves, so the checks here are that they run and produce what the comments promise."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python block"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    pred, ds = namespace["pred"], namespace["ds"]
    assert pred.mean.shape == (52, ds.n_test, 10) and pred.var.shape == (52, ds.n_test)
    assert {"izx_lower", "izy_lower", "mse"} <= set(namespace["plane"].columns)
    assert namespace["dual"].ixt.shape == (1000,)
    assert abs(namespace["kl_nats"] - namespace["task"].mutual_information) < 0.2
    assert abs(namespace["ksg_nats"] - namespace["task"].mutual_information) < 0.3
