"""Figures of Maimbourg et al., PRL 126, 120603 (2021): ``dnpsim figure zeno-...``.

Every figure compares the nonsecular GKSL steady state (Eqs. (7)-(8), matrix-free
Krylov solve) with the Hilbert rate equation (S52) on the same disorder draws:
uniform offsets of width Delta omega_e, Gaussian U_ij of variance U^2/N with the
-4 U_ij S^z S^z term of Eq. (2), Table I bath and drive.  Quick modes use N = 6 and a
few realizations; full modes N = 10 (the paper's size; the paper averages 1000
realizations, the default here is 20, pass ``realizations`` for more).

Each ``make_*`` returns (netcdf_path, png_path) and writes both to ``output_dir``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnpsim.observables.polarization import polarization
from dnpsim.io import write_netcdf
from dnpsim.plots import pyplot
from dnpsim.units import TWO_PI

OMEGA_E_HZ = 93.9e9
MW_HZ = 93.8988e9
OMEGA1_HZ = 0.628e6
#: Table I: temperature (K) -> (T_1, T*, T(0)) in s.
TABLE_I = {1.2: (160e-6, 80e-6, 1.6e-6), 12.0: (1.6e-6, 0.16e-6, 0.16e-6)}
WIDTH_HZ = 5e6
U_ETH_HZ = 0.75e6
U_MBL_HZ = 0.1e6


def _sizes(quick: bool, realizations: int | None, n_electrons: int | None = None) -> tuple[int, int]:
    n, r = (6, 4) if quick else (10, 20)
    return n_electrons or n, realizations or r


def draw_model(n: int, seed: int, width_hz: float = WIDTH_HZ, coupling_hz: float = U_ETH_HZ):
    """One disorder realization (Hz): uniform offsets in [-w/2, w/2],
    U_ij ~ N(0, U^2/N), J_ij = -4 U_ij (Eq. (2))."""
    from dnpsim.models import disorder
    from dnpsim.models.electrons import DipolarElectrons

    rng = np.random.default_rng(seed)
    offsets = disorder.uniform_offsets(n, width_hz, rng)
    u = disorder.gaussian_couplings(n, coupling_hz, rng)
    return DipolarElectrons(OMEGA_E_HZ, offsets, u, -4.0 * u)


def realization(model, temperature: float, bath, *, mw_hz: float = MW_HZ, omega1_hz: float = OMEGA1_HZ,
                irradiated: int | None = None, edges=None, spectrum: bool = False) -> dict:
    """Nonsecular and Hilbert steady states of one realization: per-spin polarization,
    EPR spectra (S63 for nonsecular, S64 for Hilbert) on ``edges`` (rad/s), and the
    spin-temperature ansatz (S78-S80, fitted to each state's <H_S> and <S^z>) with its
    profile and EPR spectrum.  With ``spectrum`` also the Fig. 3 diagnostics."""
    from dnpsim.dynamics.eigenbasis import Eigenbasis
    from dnpsim.dynamics.hilbert import hilbert_steady_state
    from dnpsim.dynamics.jumps import BathTimescales
    from dnpsim.dynamics.jumps import OpenEnvironment
    from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
    from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state
    from dnpsim.observables.epr import diagonal_blocks_from_populations, epr_spectrum
    from dnpsim.observables.spin_temperature import fit_spin_temperature

    env = OpenEnvironment(temperature, mw_hz, omega1_hz, BathTimescales(*bath), irradiated)
    basis = Eigenbasis.build(model, keep_vectors=True)
    liou = EigenbasisLiouvillian(model, env, basis.sectors)
    ns = nonsecular_steady_state(liou, tol=1e-8, maxiter=300)
    hil = hilbert_steady_state(basis, env, tol=1e-10)
    n = model.n_electrons
    energies = np.concatenate([s.energies for s in basis.sectors])
    mags = basis.magnetizations()
    spin_z = basis.spin_z()
    out = {"residual_nonsecular": ns.residual, "iterations": ns.iterations}
    pops_ns = np.concatenate([np.real(np.diagonal(liou.block(ns.rho, k, k))) for k in range(n + 1)])
    states = {"nonsecular": (pops_ns, [liou.block(ns.rho, k, k) for k in range(n + 1)], ns.electron_polarization()),
              "hilbert": (hil.populations, diagonal_blocks_from_populations(basis.sectors, hil.populations),
                          hil.electron_polarization())}
    for name, (pops, blocks, pol) in states.items():
        fit = fit_spin_temperature(energies, mags, np.clip(pops, 0, None), model.omega_e)
        p_ans = fit.populations(energies, mags)
        out[f"polarization_{name}"] = pol
        out[f"ansatz_polarization_{name}"] = polarization(p_ans, spin_z)
        out[f"beta_s_{name}"] = fit.beta_s
        if edges is not None:
            out[f"epr_{name}"] = epr_spectrum(model, basis.sectors, blocks, edges, coherent=(name == "nonsecular"))
            out[f"ansatz_epr_{name}"] = epr_spectrum(model, basis.sectors,
                                                     diagonal_blocks_from_populations(basis.sectors, p_ans), edges,
                                                     coherent=False)
    if spectrum:
        from dnpsim.observables.entanglement import stationary_spectrum

        out["spectrum_nonsecular"] = stationary_spectrum(liou.to_full(ns.rho), n)
        # the Hilbert state is diagonal in the eigenbasis of H_S: rho = sum_n p_n |n><n|
        full_h = np.zeros((2**n, 2**n), dtype=complex)
        start = 0
        for k, s in enumerate(basis.sectors):
            st = model.sector(k).states
            p = hil.populations[start : start + s.dim]
            full_h[np.ix_(st, st)] = (s.vectors * p) @ s.vectors.T
            start += s.dim
        out["spectrum_hilbert"] = stationary_spectrum(full_h, n)
    return out


def _edges(quick: bool) -> np.ndarray:
    step = 0.25e6 if quick else 0.1e6
    return TWO_PI * np.arange(OMEGA_E_HZ - 6e6, OMEGA_E_HZ + 6e6 + step / 2, step)


def profile_dataset(n: int, realizations: int, temperatures, baths, *, coupling_hz=U_ETH_HZ, width_hz=WIDTH_HZ,
                    quick=True, progress=True, seed0: int = 2021, irradiated=None, mw_hz=MW_HZ, omega1_hz=OMEGA1_HZ):
    """Polarization profiles and EPR spectra for each temperature (list) x realization."""
    import xarray as xr
    from tqdm.auto import tqdm

    edges = _edges(quick)
    centers = 0.5 * (edges[1:] + edges[:-1]) / TWO_PI
    names = ["polarization", "ansatz_polarization", "epr", "ansatz_epr"]
    data = {f"{a}_{d}": np.zeros((len(temperatures), realizations, n if a.endswith("polarization") else centers.size))
            for a in names for d in ("nonsecular", "hilbert")}
    offsets = np.zeros((realizations, n))
    beta_s = np.zeros((len(temperatures), realizations, 2))
    resid = np.zeros((len(temperatures), realizations))
    iters = np.zeros((len(temperatures), realizations), dtype=int)
    bar = tqdm(total=len(temperatures) * realizations, disable=not progress, desc="realizations")
    for r in range(realizations):
        model = draw_model(n, seed0 + r, width_hz, coupling_hz)
        offsets[r] = model.offsets
        for t, (temp, bath) in enumerate(zip(temperatures, baths)):
            out = realization(model, temp, bath, edges=edges, irradiated=irradiated, mw_hz=mw_hz, omega1_hz=omega1_hz)
            for key in data:
                data[key][t, r] = out[key]
            beta_s[t, r] = out["beta_s_nonsecular"], out["beta_s_hilbert"]
            resid[t, r], iters[t, r] = out["residual_nonsecular"], out["iterations"]
            bar.update()
    bar.close()
    ds = xr.Dataset({key: (("temperature", "realization", "electron" if "polarization" in key else "frequency"), value)
                     for key, value in data.items()},
                    coords={"temperature": list(temperatures), "frequency": centers})
    ds["offset"] = (("realization", "electron"), offsets)
    ds["beta_s"] = (("temperature", "realization", "dynamics"), beta_s)
    ds["residual_nonsecular"] = (("temperature", "realization"), resid)
    ds["iterations"] = (("temperature", "realization"), iters)
    ds = ds.assign_coords(dynamics=["nonsecular", "hilbert"])
    return ds


def _profile_figure(ds, title: str, png: Path, what: str = "both"):
    """Panels per temperature: EPR spectra (top) and polarization profiles (bottom)."""
    plt = pyplot()
    temps = ds["temperature"].values
    rows = 2 if what == "both" else 1  # "epr", "profile" or "profile_by_spin": one row
    fig, axes = plt.subplots(rows, len(temps), figsize=(5 * len(temps), 3.6 * rows), dpi=110, squeeze=False)
    for j, temp in enumerate(temps):
        sub = ds.sel(temperature=temp)
        row = 0
        if what in ("both", "epr"):
            ax = axes[row, j]
            f = ds["frequency"].values / 1e9
            for name, color in (("nonsecular", "k"), ("hilbert", "tab:red")):
                ax.plot(f, sub[f"epr_{name}"].mean("realization") * TWO_PI * 1e9, "o", ms=3, color=color, label=name)
                ax.plot(f, sub[f"ansatz_epr_{name}"].mean("realization") * TWO_PI * 1e9, "--", color=color, lw=1)
            ax.axvline(MW_HZ / 1e9, color="0.5", ls=":")
            ax.set_xlabel(r"$\omega/2\pi$ (GHz)")
            ax.set_ylabel(r"$f(\omega)$ (per $2\pi$ GHz)")
            ax.set_title(f"{temp:g} K: EPR (dashed: spin-temperature ansatz)", fontsize=9)
            ax.legend(fontsize=7)
            row += 1
        if what in ("both", "profile", "profile_by_spin"):
            ax = axes[row, j]
            x = (OMEGA_E_HZ + sub["offset"].values.ravel()) / 1e9
            if what == "profile_by_spin":  # homogeneous spins (Fig. S8): plot against the spin index
                x = np.tile(np.arange(1, sub.sizes["electron"] + 1), sub.sizes["realization"])
            for name, color in (("nonsecular", "k"), ("hilbert", "tab:red")):
                ax.plot(x, sub[f"polarization_{name}"].values.ravel(), "o", ms=3, color=color, label=name)
                ax.plot(x, sub[f"ansatz_polarization_{name}"].values.ravel(), "o", ms=4, mfc="none", color=color)
            from dnpsim.units import inverse_temperature

            ax.axhline(-np.tanh(0.5 * inverse_temperature(temp) * TWO_PI * OMEGA_E_HZ), color="tab:blue", lw=1)
            if what == "profile_by_spin":
                ax.set_xlabel("spin i")
            else:
                ax.axvline(MW_HZ / 1e9, color="0.5", ls=":")
                ax.set_xlabel(r"$(\omega_e + \Delta_i)/2\pi$ (GHz)")
            ax.set_ylabel(r"$P_i$")
            ax.set_title(f"{temp:g} K: polarization profile (open: ansatz)", fontsize=9)
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def _make_profiles(tag: str, title: str, quick: bool, output_dir: Path, progress: bool, realizations, temperatures,
                   baths, what="both", n_electrons=None, **kwargs):
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    n, r = _sizes(quick, realizations, n_electrons)
    ds = profile_dataset(n, r, temperatures, baths, quick=quick, progress=progress, **kwargs)
    nc, png = output_dir / f"{tag}.nc", output_dir / f"{tag}.png"
    write_netcdf(ds, nc, {"figure": title, "n_electrons": n, "mode": "quick" if quick else "full"})
    _profile_figure(ds, f"{title} (N = {n}, {r} realizations)", png, what)
    return nc, png


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-fig2``: EPR spectra at 1.2 K and 12 K (Table I), nonsecular
    vs Hilbert, with the spin-temperature ansatz (dashed)."""
    return _make_profiles("zeno-fig2", "Maimbourg et al. 2021, Fig. 2", quick, output_dir, progress, realizations,
                          [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], what="epr",
                          n_electrons=n_electrons)


def make_figS5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS5``: polarization profiles (ETH, U = 0.75 MHz) at 1.2 K and 12 K."""
    return _make_profiles("zeno-figS5", "Maimbourg et al. 2021, Fig. S5", quick, output_dir, progress, realizations,
                          [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], what="both",
                          n_electrons=n_electrons)


def make_figS6(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS6``: MBL case U = 0.1 MHz, both temperatures."""
    return _make_profiles("zeno-figS6", "Maimbourg et al. 2021, Fig. S6 (MBL, U = 0.1 MHz)", quick, output_dir, progress,
                          realizations, [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], coupling_hz=U_MBL_HZ,
                          n_electrons=n_electrons)


def make_figS7(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS7``: 12 K with T_1 = 1.6 us << T* = 80 us, T(0) = 3.2 us."""
    return _make_profiles("zeno-figS7", "Maimbourg et al. 2021, Fig. S7 (T1 << T*)", quick, output_dir, progress,
                          realizations, [12.0], [(1.6e-6, 80e-6, 3.2e-6)], n_electrons=n_electrons)


def make_figS8(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS8``: homogeneous spins (width 1e-4 MHz), U = 1 MHz, only
    spin 3 irradiated at omega_MW = omega_e with omega_1 = 0.1 GHz, T* = T(0) = 1e-10/2pi s,
    T_1 = 1e-4/2pi s, 12 K.  The paper uses N = 12 and one sample; here N = 6 (quick) or
    10 (full), one sample."""
    bath = (1e-4 / TWO_PI, 1e-10 / TWO_PI, 1e-10 / TWO_PI)
    return _make_profiles("zeno-figS8", "Maimbourg et al. 2021, Fig. S8 (spin 3 irradiated)", quick, output_dir,
                          progress, realizations or 1, [12.0], [bath], what="profile_by_spin", width_hz=1e-4 * 1e6,
                          coupling_hz=1e6, irradiated=2, mw_hz=OMEGA_E_HZ, omega1_hz=0.1e9,
                          n_electrons=n_electrons)


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-fig3``: eigenvalues of rho_stat and entanglement entropy of
    its eigenvectors (half chain kept), Hilbert vs nonsecular, 12 K; inset data:
    S^z_i of the eigenvectors in the middle of the s^z = 0 sector."""
    import xarray as xr

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    n = n_electrons or (6 if quick else 10)
    model = draw_model(n, 2021)
    out = realization(model, 12.0, TABLE_I[12.0], spectrum=True)
    ds = xr.Dataset()
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), dpi=110)
    for name, color in (("hilbert", "tab:red"), ("nonsecular", "k")):
        spec = out[f"spectrum_{name}"]
        order = np.argsort(spec.magnetization, kind="stable")
        ds[f"eigenvalues_{name}"] = ("state", spec.eigenvalues)
        ds[f"entropy_{name}"] = ("state", spec.entropies)
        ds[f"magnetization_{name}"] = ("state", spec.magnetization)
        ds[f"local_z_{name}"] = (("state", "electron"), spec.local_z)
        axes[0].semilogy(np.sort(spec.eigenvalues)[::-1], ".", color=color, label=name)
        axes[1].plot(spec.magnetization[order], spec.entropies[order], ".", color=color, ms=3, label=name)
        middle = np.abs(spec.magnetization) < 0.25
        axes[2].hist(spec.local_z[middle].ravel(), bins=40, histtype="step", density=True, color=color, label=name)
    axes[0].set_ylabel(r"eigenvalue of $\rho_{stat}$")
    axes[0].set_xlabel("rank")
    axes[1].set_xlabel(r"$\langle S^z \rangle$ of the eigenvector")
    axes[1].set_ylabel("entanglement entropy (half chain)")
    axes[2].set_xlabel(r"$\langle S^z_i \rangle$ (eigenvectors with $s^z \approx 0$)")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(f"Maimbourg et al. 2021, Fig. 3 (N = {n}, 12 K, one realization)", fontsize=10)
    fig.tight_layout()
    nc, png = output_dir / "zeno-fig3.nc", output_dir / "zeno-fig3.png"
    fig.savefig(png)
    plt.close(fig)
    write_netcdf(ds, nc, {"figure": "Maimbourg et al. 2021, Fig. 3", "n_electrons": n, "mode": "quick" if quick else "full"})
    return nc, png


def make_figS11(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS11``: toy-model populations rho_11, rho_22 vs
    omega_MW - omega_e (Eq. (S101)) in the four regimes of Fig. S11."""
    import xarray as xr

    from dnpsim.theory.zeno_three_level import linear_response_populations

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    regimes = {"good mixing": (0.1, 1.0, 0.05), "Anderson": (2.0, 0.3, 0.05), "Zeno": (0.2, 1.0, 5.0),
               "incoherent": (1.0, 0.05, 1.0)}  # (Delta, J, gamma) in MHz
    x = np.linspace(-4, 4, 201 if quick else 801)
    ds = xr.Dataset(coords={"detuning": x, "regime": list(regimes)})
    r11 = np.zeros((len(regimes), x.size))
    r22 = np.zeros_like(r11)
    for i, (d, j, g) in enumerate(regimes.values()):
        a, b = linear_response_populations(-TWO_PI * 1e6 * x, TWO_PI * 1e6 * d, TWO_PI * 1e6 * j, TWO_PI * 1e6 * g,
                                           TWO_PI * 1e6 * 0.01)
        r11[i], r22[i] = a, b
    ds["rho11"] = (("regime", "detuning"), r11)
    ds["rho22"] = (("regime", "detuning"), r22)
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), dpi=110)
    for ax, name, a, b in zip(axes, regimes, r11, r22):
        ax.plot(x, a, label=r"$\rho_{11}$")
        ax.plot(x, b, label=r"$\rho_{22}$")
        d, j, g = regimes[name]
        ax.set_title(f"{name}: Delta={d}, J={j}, gamma={g} MHz", fontsize=8)
        ax.set_xlabel(r"$(\omega_{MW}-\omega_e)/2\pi$ (MHz)")
        ax.legend(fontsize=7)
    fig.suptitle("Maimbourg et al. 2021, Fig. S11: toy model, Eq. (S101), V = 0.01 MHz", fontsize=10)
    fig.tight_layout()
    nc, png = output_dir / "zeno-figS11.nc", output_dir / "zeno-figS11.png"
    fig.savefig(png)
    plt.close(fig)
    write_netcdf(ds, nc, {"figure": "Maimbourg et al. 2021, Fig. S11", "mode": "quick" if quick else "full"})
    return nc, png
