"""A sweep started with executor="processes" from a script without an
``if __name__ == "__main__":`` guard: every spawned worker imports the script again
and dies.  The error must say so, once, without a traceback that grows with the number
of lost tasks."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_missing_main_guard_is_named_and_the_traceback_stays_short(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent("""
        import dnpsim
        spec = {"model": {"kind": "dipolar_electrons", "n_electrons": 2, "electron_larmor": 93.9e9, "seed": 0,
                          "offsets": {"distribution": "equally_spaced", "half_width": 3e7},
                          "couplings": {"distribution": "gaussian", "scale": 5e6},
                          "nuclei": {"larmor": 2e7, "hyperfine": {"distribution": "gaussian", "scale": 1e6}}},
                "environment": {"temperature": 1.2, "mw_frequency": 93.9e9, "mw_amplitude": 2.5e4},
                "sweep": {"model.couplings.scale": [1e6, 2e6, 3e6, 4e6, 5e6, 6e6, 7e6, 8e6], "realizations": 4}}
        dnpsim.sweep(spec, executor="processes", workers=2, progress=False)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                          cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("dnpsim.errors.SweepTaskError") and '__name__ == "__main__"' in last
    # The main process's own traceback (after the workers' noise) does not repeat the
    # result() frames once per lost task (32 tasks here).
    main_part = done.stderr.split("The above exception was the direct cause of the following exception")[0]
    assert main_part.count("in _finish_running") <= 2
