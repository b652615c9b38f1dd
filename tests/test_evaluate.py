import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.evaluate import evaluate


def _ipc_subset(y, ipc):
    return torch.cat([torch.nonzero(y == c)[:ipc, 0] for c in range(10)])


def test_tiny_set_is_far_above_chance_and_deterministic(digits_real):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, 10)
    a = evaluate(x[idx], y[idx], tx, ty, num_classes=10, preset="tiny", seed=3, progress=False)
    b = evaluate(x[idx], y[idx], tx, ty, num_classes=10, preset="tiny", seed=3, progress=False)
    assert a.mean > 0.6  # chance is 0.1
    assert a.accuracies == b.accuracies and len(a.accuracies) == 2 and a.preset == "tiny"


def test_more_data_helps_and_dsa_runs(digits_real):
    x, y, tx, ty = digits_real
    one = _ipc_subset(y, 1)
    r1 = evaluate(x[one], y[one], tx, ty, num_classes=10, preset="tiny", epochs=50, progress=False)
    r_dsa = evaluate(x[one], y[one], tx, ty, num_classes=10, preset="tiny", epochs=50, dsa=True,
                     dsa_strategy="color_crop_cutout_scale_rotate", progress=False)
    many = _ipc_subset(y, 50)
    r50 = evaluate(x[many], y[many], tx, ty, num_classes=10, preset="tiny", epochs=50, progress=False)
    assert r50.mean > r1.mean + 0.1
    assert r_dsa.dsa and r_dsa.mean > 0.2


def test_per_image_augmentation_trains_only_without_dsa_and_is_recorded(digits_real):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, 2)
    kw = dict(num_classes=10, preset="tiny", nets=1, epochs=20, seed=1, progress=False)
    plain = evaluate(x[idx], y[idx], tx, ty, **kw)
    aug = evaluate(x[idx], y[idx], tx, ty, augment_without_dsa="crop_scale_rotate", **kw)
    assert plain.augment is None and aug.augment == "crop_scale_rotate" and not aug.dsa
    assert aug.accuracies != plain.accuracies  # the nets saw other images
    assert evaluate(x[idx], y[idx], tx, ty, augment_without_dsa="crop_scale_rotate", **kw).accuracies == \
        aug.accuracies
    with_dsa = evaluate(x[idx], y[idx], tx, ty, dsa=True, augment_without_dsa="crop_scale_rotate", **kw)
    assert with_dsa.dsa and with_dsa.augment is None
    with pytest.raises(InvalidParameterError, match="strategy='flip'"):
        evaluate(x[idx], y[idx], tx, ty, augment_without_dsa="flip", **kw)


def test_soft_labels_and_cross_architecture(digits_real):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, 5)
    soft = torch.nn.functional.one_hot(y[idx], 10).float()
    r = evaluate(x[idx], soft, tx, ty, num_classes=10, preset="tiny", model="MLP", epochs=30, progress=False)
    assert r.model == "MLP" and r.mean > 0.3


def test_bad_inputs(digits_real):
    x, y, tx, ty = digits_real
    with pytest.raises(InvalidParameterError, match="images="):
        evaluate(x[:5, :, :4], y[:5], tx, ty, num_classes=10, preset="tiny", progress=False)
    bad = x[:5].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(InvalidParameterError, match="finite values"):
        evaluate(bad, y[:5], tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="labels="):
        evaluate(x[:5], y[:4], tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="epochs=0"):
        evaluate(x[:5], y[:5], tx, ty, num_classes=10, preset="tiny", epochs=0, progress=False)
    with pytest.raises(InvalidParameterError, match="preset='huge'"):
        evaluate(x[:5], y[:5], tx, ty, num_classes=10, preset="huge", progress=False)
    # class indices outside 0..num_classes-1 would be an IndexError from inside the loss, mid-training
    with pytest.raises(InvalidParameterError, match=r"labels='classes 5\.\.14': expected class indices in 0\.\.9"):
        evaluate(x[:10], torch.arange(10) + 5, tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match=r"test_labels='classes -1\.\.9'"):
        evaluate(x[:5], y[:5], tx, torch.cat([ty[:-1], torch.tensor([-1])]), num_classes=10, preset="tiny",
                 progress=False)
    with pytest.raises(InvalidParameterError, match="test_labels=.*integer labels"):
        evaluate(x[:5], y[:5], tx, ty[:-1], num_classes=10, preset="tiny", progress=False)
    # an array is named as such, not a TypeError from torch.isfinite
    with pytest.raises(InvalidParameterError, match=r"images='ndarray': expected a torch.Tensor"):
        evaluate(x[:5].numpy(), y[:5], tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="num_classes=1"):
        evaluate(x[:5], y[:5] * 0, tx, ty * 0, num_classes=1, preset="tiny", progress=False)


def _tiny_set(digits_real, ipc):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, ipc)
    return x[idx], y[idx], tx, ty


@pytest.mark.parametrize("dsa,soft", [(False, False), (True, True)])
def test_stacked_training_follows_each_nets_sequential_trajectory(digits_real, dsa, soft):
    """Same seeds -> the same shuffling, DSA draws and SGD state per net; only float summation order differs
    (one grouped convolution instead of one per net), so parameters agree to float tolerance."""
    from coredistill.augment import DSA
    from coredistill.evaluate import train_net, train_stacked
    from coredistill.models import create_model
    from coredistill.seeding import torch_generator

    x, y, _, _ = _tiny_set(digits_real, 3)
    if soft:
        y = torch.softmax(torch.randn(len(y), 10, generator=torch.Generator().manual_seed(1)), 1)
    aug = DSA(strategy="color_crop_cutout_scale_rotate") if dsa else None
    seeds = [11, 12, 13]
    kw = dict(epochs=6, lr=0.01, batch_size=8, augment=aug)  # several batches per epoch and the lr step
    sequential = [train_net(create_model("ConvNetW32", 1, 10, 8, seed=s), x, y, generator=torch_generator(s), **kw)
                  for s in seeds]
    nets = [create_model("ConvNetW32", 1, 10, 8, seed=s) for s in seeds]
    train_stacked(nets, x, y, generators=[torch_generator(s) for s in seeds], **kw)
    for a, b in zip(sequential, nets):
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.allclose(pa, pb, atol=1e-5, rtol=1e-4)
    # and the nets really differ from one another (each kept its own initialization and draws)
    assert not torch.allclose(next(nets[0].parameters()), next(nets[1].parameters()))


def test_ensembled_evaluation_gives_the_sequential_accuracies(digits_real):
    x, y, tx, ty = _tiny_set(digits_real, 2)
    kw = dict(num_classes=10, preset="tiny", nets=3, epochs=30, seed=4, progress=False)
    seq = evaluate(x, y, tx, ty, ensemble=False, **kw)
    ens = evaluate(x, y, tx, ty, ensemble=True, **kw)
    assert (seq.mode, ens.mode) == ("sequential", "ensembled")
    assert ens.net_seeds == seq.net_seeds
    # float summation order may flip a borderline test image or two, never more
    assert all(abs(a - b) <= 2 / len(ty) for a, b in zip(seq.accuracies, ens.accuracies))


def test_ensemble_falls_back_for_batch_norm_and_auto_stacks_only_small_sets(digits_real):
    from coredistill.evaluate import stack_pays
    from coredistill.models import create_model

    x, y, tx, ty = _tiny_set(digits_real, 1)
    r = evaluate(x, y, tx, ty, num_classes=10, preset="tiny", model="ConvNetBN", nets=2, epochs=2, ensemble=True,
                 progress=False)
    assert r.mode == "sequential" and "batch norm" in r.fallback
    net = create_model("ConvNetW32", 1, 10, 28)  # 64 images per cache-sized chunk
    cpu = torch.device("cpu")
    assert stack_pays(net, 3, 10, cpu) and not stack_pays(net, 3, 100, cpu)
    with pytest.raises(InvalidParameterError, match="ensemble='yes'"):
        evaluate(x, y, tx, ty, num_classes=10, preset="tiny", ensemble="yes", progress=False)


def test_chunked_batches_give_the_batch_gradient_and_chunked_testing_the_same_accuracy():
    from coredistill.evaluate import _batch_loss, _cross_entropy, accuracy
    from coredistill.models import create_model

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(37, 1, 28, 28, generator=g), torch.randint(0, 10, (37,), generator=g)
    grads = []
    for chunk in (37, 8):
        net = create_model("ConvNetW32", 1, 10, 28, seed=0)
        _batch_loss(lambda xb, yb, reduction, net=net: _cross_entropy(net, xb, yb, reduction), x, y, chunk)
        grads.append([p.grad for p in net.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)
    net = create_model("ConvNetW32", 1, 10, 28, seed=0)
    assert accuracy(net, x, y) == accuracy(net, x, y, batch_size=5) == accuracy(net, x, y, batch_size=1000)


@pytest.mark.slow
def test_compiled_evaluation_gives_the_eager_accuracies_and_auto_never_compiles_on_the_cpu(digits_real):
    from coredistill.evaluate import COMPILE_FROM_IMAGES, compile_pays

    x, y, tx, ty = _tiny_set(digits_real, 2)
    kw = dict(num_classes=10, preset="tiny", nets=2, epochs=30, seed=4, progress=False)
    eager = evaluate(x, y, tx, ty, compiled=False, **kw)
    comp = evaluate(x, y, tx, ty, compiled=True, **kw)
    assert (eager.compiled, comp.compiled) == (False, True) and comp.net_seeds == eager.net_seeds
    # the same draws; float rounding inside fused kernels may flip a borderline test image or two, never more
    assert all(abs(a - b) <= 2 / len(ty) for a, b in zip(eager.accuracies, comp.accuracies))
    assert not evaluate(x, y, tx, ty, compiled="auto", **kw).compiled
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not compile_pays(cpu, 10**9) and not compile_pays(cuda, COMPILE_FROM_IMAGES - 1)
    assert compile_pays(cuda, COMPILE_FROM_IMAGES)
    assert not evaluate(x, y, tx, ty, compiled=True, ensemble=True, **kw).compiled  # stacked nets: eager
    assert not evaluate(x, y, tx, ty, num_classes=10, preset="tiny", model="ConvNetBN", nets=1, epochs=1,
                        compiled=True, progress=False).compiled
    with pytest.raises(InvalidParameterError, match="compiled='fast'"):
        evaluate(x, y, tx, ty, num_classes=10, preset="tiny", compiled="fast", progress=False)


@pytest.mark.parametrize("ensemble", [False, True])
def test_an_evaluation_continues_with_the_nets_it_had_not_finished(digits_real, ensemble):
    # net i depends on its own seed only: the nets left to train give what they give in an uninterrupted run
    x, y, tx, ty = _tiny_set(digits_real, 2)
    kw = dict(num_classes=10, preset="tiny", nets=3, epochs=20, seed=5, ensemble=ensemble, progress=False)
    seen = []
    whole = evaluate(x, y, tx, ty, on_net=lambda i, acc: seen.append((i, acc)), **kw)
    assert seen == list(enumerate(whole.accuracies))
    later = []
    rest = evaluate(x, y, tx, ty, done={0: 0.123}, on_net=lambda i, acc: later.append(i), **kw)
    assert later == [1, 2] and rest.accuracies[0] == 0.123  # a finished net is not trained again
    tolerance = 2 / len(ty) if ensemble else 0.0  # two stacked nets instead of three: float summation order
    assert all(abs(a - b) <= tolerance for a, b in zip(rest.accuracies[1:], whole.accuracies[1:]))
    for bad in ({3: 0.5}, {0: 1.5}, {True: 0.5}):
        with pytest.raises(InvalidParameterError, match="done="):
            evaluate(x, y, tx, ty, done=bad, **kw)
