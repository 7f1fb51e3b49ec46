"""Independent check of FITS catalogs written by the CLIs, with astropy (run with /usr/bin/python3).

Reads a JSON list of file paths on stdin; prints a JSON list with, per file: whether astropy opens and
verifies it (strict FITS verification, checksums checked when present, warnings treated as errors), and
per binary-table HDU its EXTNAME, row count and columns (name, TFORM). Reading every column's data makes
a truncated or inconsistent table fail here.
"""
import json
import sys
import warnings

from astropy.io import fits


def describe(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(path, checksum=True, memmap=False) as hdul:
                hdul.verify("exception")
                tables = []
                for i, h in enumerate(hdul):
                    if not isinstance(h, fits.BinTableHDU):
                        continue
                    data = h.data
                    nrows = 0 if data is None else len(data)
                    if data is not None:
                        for name in data.columns.names:
                            data[name]  # force a full read of every column
                    tables.append({
                        "index": i,
                        "name": h.name,
                        "nrows": nrows,
                        "columns": [[c.name, c.format] for c in h.columns],
                    })
                return {"file": path, "ok": True, "tables": tables}
    except Exception as e:  # noqa: BLE001 - every failure is a finding to report
        return {"file": path, "ok": False, "error": f"{type(e).__name__}: {e}"}


def main():
    paths = json.load(sys.stdin)
    json.dump([describe(p) for p in paths], sys.stdout)


if __name__ == "__main__":
    main()
