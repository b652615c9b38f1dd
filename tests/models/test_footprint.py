import torch
from torch import nn

from coredistill.models import create_model
from coredistill.models.footprint import CACHE_BUDGET_BYTES, cache_chunk, in_cache_chunks, largest_activation_bytes


def test_cache_chunk_is_the_largest_power_of_two_within_the_budget():
    net = create_model("ConvNet", 1, 10, 28, width=32)
    per_image = largest_activation_bytes(net)
    chunk = cache_chunk(net, unknown=256)
    assert chunk & (chunk - 1) == 0
    assert chunk * per_image <= CACHE_BUDGET_BYTES < 2 * chunk * per_image
    assert cache_chunk(nn.Linear(3, 2), unknown=7) == 7  # no input shape to probe


def test_in_cache_chunks_splits_large_inputs_and_keeps_every_row():
    net = create_model("ConvNet", 1, 10, 28, width=32, seed=0).eval()
    chunk = cache_chunk(net, unknown=256)
    x = torch.randn(2 * chunk + 5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    sizes = []

    def forward(part):
        sizes.append(len(part))
        return net(part)

    with torch.inference_mode():
        whole, chunked = net(x), in_cache_chunks(forward, net, x)
    assert sizes == [chunk, chunk, 5]
    # each row is computed by per-sample layers: the same up to float summation order
    assert torch.allclose(chunked, whole, rtol=1e-5, atol=1e-6)


def test_in_cache_chunks_never_splits_batch_norm_in_training_mode():
    net = create_model("ConvNet", 1, 10, 28, width=32, norm="batch", seed=0)
    x = torch.randn(3 * cache_chunk(net, unknown=256), 1, 28, 28)
    calls = []
    in_cache_chunks(lambda part: calls.append(len(part)) or net(part), net, x)
    assert calls == [len(x)]  # the batch's statistics couple its rows
    net.eval()
    calls.clear()
    with torch.no_grad():
        in_cache_chunks(lambda part: calls.append(len(part)) or net(part), net, x)
    assert len(calls) == 3  # running statistics: per-sample again
