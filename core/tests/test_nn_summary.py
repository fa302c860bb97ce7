"""plugrad.utils.summary: torchsummary's table (layers, output shapes, parameter counts,
totals and sizes) without side effects on the model."""

from __future__ import annotations

import io

import plugrad
import plugrad.nn as nn
from plugrad.utils import summary, summary_string


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.b = nn.Linear(5, 4)

    def forward(self, x, y):
        return self.a(x) + self.b(y)


def test_table_rows_and_totals():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    model[5].bias.requires_grad_(False)
    text, (total, trainable) = summary_string(model, (1, 8, 8))
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    rows = [line.split() for line in lines[3:9]]
    assert [r[0] for r in rows] == ["Conv2d-1", "BatchNorm2d-2", "ReLU-3", "MaxPool2d-4", "Flatten-5", "Linear-6"]
    assert " ".join(rows[0][1:-1]) == "[-1, 4, 8, 8]" and rows[0][-1] == "40"
    assert " ".join(rows[5][1:-1]) == "[-1, 10]" and rows[5][-1] == "650"
    assert total == 40 + 8 + 650 and trainable == total - 10
    assert "Total params: 698" in text and "Trainable params: 688" in text and "Non-trainable params: 10" in text
    assert "Params size (MB): 0.00" in text and "Estimated Total Size (MB)" in text


def test_summary_prints_returns_none_and_leaves_the_model_alone():
    model = nn.Sequential(nn.Linear(1000, 100), nn.BatchNorm1d(100), nn.Linear(100, 10))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = io.StringIO()
    assert summary(model, (1000,), file=out) is None
    assert "Linear-1" in out.getvalue() and "Total params: 101,310" in out.getvalue()
    after = model.state_dict()
    assert all(plugrad.equal(before[k], after[k]) for k in before)
    assert not model[0]._forward_hooks  # the probe hooks are gone


def test_several_inputs_and_batch_size():
    text, _ = summary_string(TwoInputs(), [(3,), (5,)], batch_size=16)
    assert "Linear-1" in text and "[16, 4]" in text and "Input size (MB): 0.00" in text
