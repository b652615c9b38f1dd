import numpy as np
import pytest

from coredistill.errors import InvalidParameterError
from coredistill.select import create_initializer, exact_leverage, ridge_leverage
from coredistill.select.leverage import MAX_EXACT_N, gram


def test_primal_matches_the_exact_formula_and_sums_to_effective_dof():
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(60, 8)) * np.linspace(0.1, 3, 8)
    lam = 2.5
    k = phi @ phi.T
    direct = np.diag(k @ np.linalg.inv(k + lam * np.eye(60)))
    assert ridge_leverage(phi, lam) == pytest.approx(direct, rel=1e-8, abs=1e-12)
    assert exact_leverage(k, lam) == pytest.approx(direct, rel=1e-8, abs=1e-12)
    dof = np.trace(k @ np.linalg.inv(k + lam * np.eye(60)))
    assert ridge_leverage(phi, lam).sum() == pytest.approx(dof, rel=1e-9)
    eig = np.linalg.eigvalsh(k)
    assert dof == pytest.approx((eig / (eig + lam)).sum(), rel=1e-9)


def test_primal_form_in_row_chunks_matches_the_exact_formula(monkeypatch):
    from coredistill.select import leverage

    monkeypatch.setattr(leverage, "_CHUNK", 16)  # 60 rows: three full chunks and a partial one
    rng = np.random.default_rng(2)
    phi = rng.normal(size=(60, 12)).astype(np.float32)
    k = phi.astype(np.float64) @ phi.T.astype(np.float64)
    lam = 0.7
    direct = np.diag(k @ np.linalg.inv(k + lam * np.eye(60)))
    assert ridge_leverage(phi, lam) == pytest.approx(direct, rel=1e-8, abs=1e-12)


def test_default_lambda_rule_is_scale_invariant():
    rng = np.random.default_rng(1)
    phi = rng.normal(size=(50, 6))
    assert ridge_leverage(phi) == pytest.approx(ridge_leverage(7.0 * phi), rel=1e-9)
    n = len(phi)
    lam = 0.01 * np.trace(phi @ phi.T) / n
    assert ridge_leverage(phi) == pytest.approx(ridge_leverage(phi, lam), rel=1e-12)


def test_rbf_exact_mode_and_outlier():
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(0, 0.2, (80, 2)), [[6.0, 6.0]]])
    tau = exact_leverage(gram(x, "rbf"), reg=0.01)
    assert tau.argmax() == 80 and 0 <= tau.min() and tau.max() <= 1
    labels = np.zeros(81, int)
    sel = create_initializer("kernel-leverage", kernel="rbf").select(x, labels, 5, rng)
    assert np.allclose(sel.scores, np.clip(tau, 0, 1) + 1 / 81)


def test_bad_lambda_and_exact_size_limit():
    x, y = np.ones((6, 2)), np.zeros(6, int)
    rng = np.random.default_rng(0)
    for lam in (0, -1.0, float("nan")):
        with pytest.raises(InvalidParameterError, match="lam="):
            create_initializer("kernel-leverage", lam=lam).select(x, y, 2, rng)
    with pytest.raises(InvalidParameterError, match="reg=0"):
        ridge_leverage(x, reg=0)
    big = np.zeros((MAX_EXACT_N + 1, 1), np.float32)
    with pytest.raises(InvalidParameterError, match=f"n={MAX_EXACT_N + 1}: expected at most {MAX_EXACT_N}"):
        create_initializer("kernel-leverage", kernel="rbf").select(big, np.zeros(len(big), int), 1, rng)
    with pytest.raises(InvalidParameterError, match="kernel='poly'"):
        create_initializer("kernel-leverage", kernel="poly").select(x, y, 1, rng)


def test_constant_features_give_uniform_valid_selection():
    x, y = np.zeros((12, 3)), np.repeat([0, 1], 6)
    sel = create_initializer("kernel-leverage").select(x, y, 2, np.random.default_rng(0))
    assert np.allclose(sel.scores, 1 / 12) and len(set(sel.indices.tolist())) == 4
