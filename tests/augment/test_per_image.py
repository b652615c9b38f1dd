"""The field's per-image augmentation for evaluations without DSA: every operation against its definition."""
import pytest
import torch
from torch.nn import functional as F

from coredistill.augment import PerImageAugment
from coredistill.augment.per_image import resize_centered, rotate_about_centre
from coredistill.errors import InvalidParameterError


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _shifted(img: torch.Tensor, dy: int, dx: int, fill: torch.Tensor) -> torch.Tensor:
    """``out[r, s] = img[r + dy, s + dx]``, ``fill`` outside the image."""
    c, h, w = img.shape
    out = fill.view(c, 1, 1).expand(c, h, w).clone()
    for r in range(h):
        for s in range(w):
            if 0 <= r + dy < h and 0 <= s + dx < w:
                out[:, r, s] = img[:, r + dy, s + dx]
    return out


def test_crop_is_a_whole_pixel_shift_within_the_padding_filled_with_the_batch_mean():
    x = torch.randn(40, 2, 9, 9)
    out = PerImageAugment("crop", crop=2)(x, generator=_gen())
    fill = x.mean(dim=(0, 2, 3))
    seen = set()
    for i in range(len(x)):
        # pad 2, cut at offsets 0..3: a shift of -2 .. +1 on each axis
        match = [(dy, dx) for dy in range(-2, 2) for dx in range(-2, 2)
                 if torch.equal(out[i], _shifted(x[i], dy, dx, fill))]
        assert len(match) == 1, i
        seen.add(match[0])
    assert len(seen) > 8  # the shifts vary from image to image


def _field_scale(img: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The field's scale, written as it describes it: nearest resize, centre on a zero canvas, cut the centre."""
    c, H, W = img.shape
    tmp = F.interpolate(img[None], [h, w])[0]
    side = max(h, w, H, W)
    canvas = torch.zeros(c, side, side)
    r, s = (side - h) // 2, (side - w) // 2
    canvas[:, r:r + h, s:s + w] = tmp
    r, s = (side - H) // 2, (side - W) // 2
    return canvas[:, r:r + H, s:s + W]


@pytest.mark.parametrize("h,w", [(28, 28), (22, 33), (33, 22), (25, 30), (31, 24), (23, 23)])
def test_resize_centered_equals_nearest_interpolation_on_a_zero_canvas(h, w):
    x = torch.randn(3, 2, 28, 28)
    out = resize_centered(x, torch.full((3,), h), torch.full((3,), w))
    for i in range(3):
        assert torch.equal(out[i], _field_scale(x[i], h, w))


def test_scale_zero_is_the_identity_and_sizes_stay_within_the_ratio():
    x = torch.randn(10, 1, 28, 28)
    assert torch.equal(PerImageAugment("scale", scale=0.0)(x, generator=_gen()), x)
    # a white square of side 10 ends up a centred rectangle of sides in [0.8 * 10, 1.2 * 10] (+-1 for rounding)
    sq = torch.zeros(200, 1, 28, 28)
    sq[:, :, 9:19, 9:19] = 1
    out = PerImageAugment("scale", scale=0.2)(sq, generator=_gen())
    heights = (out[:, 0].amax(dim=2) > 0).sum(1)
    widths = (out[:, 0].amax(dim=1) > 0).sum(1)
    for sides in (heights, widths):
        assert int(sides.min()) >= 7 and int(sides.max()) <= 13
        assert len(set(sides.tolist())) >= 4


def test_rotation_by_zero_and_by_quarter_turns_is_exact():
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(rotate_about_centre(x, torch.tensor([0, 0]), fill=0.5), x, atol=1e-5)
    assert torch.allclose(rotate_about_centre(x, torch.tensor([90, 90]), fill=0.5), torch.rot90(x, 1, (2, 3)),
                          atol=1e-5)
    assert torch.allclose(rotate_about_centre(x, torch.tensor([-90, -90]), fill=0.5),
                          torch.rot90(x, -1, (2, 3)), atol=1e-5)


def test_rotation_fills_the_corners_with_the_fill_and_keeps_the_centre():
    x = torch.ones(1, 1, 21, 21)
    out = rotate_about_centre(x, torch.tensor([45]), fill=-3.0)
    assert out[0, 0, 0, 0] == pytest.approx(-3.0, abs=1e-5)  # a corner: outside the rotated square
    assert out[0, 0, 10, 10] == pytest.approx(1.0, abs=1e-5)


def test_rotate_draws_whole_degrees_below_the_limit():
    # one bright pixel off the centre: its angle after rotation tells the degrees drawn (whole, in [-3, 3))
    x = torch.zeros(300, 1, 41, 41)
    x[:, 0, 20, 38] = 1.0
    out = PerImageAugment("rotate", rotate=3)(x, generator=_gen())
    ys, xs = torch.meshgrid(torch.arange(41.0), torch.arange(41.0), indexing="ij")
    mass = out[:, 0].clamp(min=0)
    cy = (mass * ys).sum((1, 2)) / mass.sum((1, 2)) - 20
    cx = (mass * xs).sum((1, 2)) / mass.sum((1, 2)) - 20
    degrees = torch.rad2deg(torch.atan2(-cy, cx))  # counter-clockwise as displayed
    assert set(degrees.round().int().tolist()) == {-3, -2, -1, 0, 1, 2}
    assert float((degrees - degrees.round()).abs().max()) < 0.2


def test_one_operation_per_image():
    # scale 0 leaves an image as it is; noise 1 changes every pixel: each image is one or the other, about half each
    x = torch.randn(400, 1, 6, 6)
    out = PerImageAugment("scale_noise", scale=0.0, noise=1.0)(x, generator=_gen())
    unchanged = (out == x).flatten(1).all(1)
    changed = (out != x).flatten(1).all(1)
    assert bool((unchanged | changed).all())
    assert 0.4 < float(unchanged.float().mean()) < 0.6
    assert float((out - x)[changed].std()) == pytest.approx(1.0, abs=0.05)


def test_same_generator_same_images_and_the_input_is_left_alone():
    x = torch.randn(32, 1, 28, 28)
    before = x.clone()
    aug = PerImageAugment()
    a, b = aug(x, generator=_gen(3)), aug(x, generator=_gen(3))
    assert torch.equal(a, b)
    assert torch.equal(x, before)
    assert not torch.equal(a, aug(x, generator=_gen(4)))


@pytest.mark.parametrize("options,name", [({"strategy": "crop_flip"}, "strategy"), ({"strategy": ""}, "strategy"),
                                          ({"crop": 0}, "crop"), ({"scale": 1.0}, "scale"),
                                          ({"rotate": 2.5}, "rotate"), ({"noise": -1.0}, "noise")])
def test_bad_options_name_the_parameter(options, name):
    with pytest.raises(InvalidParameterError, match=name):
        PerImageAugment(**options)


def test_per_batch_draws_and_non_batches_are_refused():
    aug = PerImageAugment()
    with pytest.raises(InvalidParameterError, match="siamese"):
        aug(torch.zeros(2, 1, 8, 8), siamese=True)
    with pytest.raises(InvalidParameterError, match="x"):
        aug(torch.zeros(1, 8, 8))
