"""Bank credits from NAV (an extract of the bank statement): what was actually received.

NAV makes one credit per settlement, org number and bank account; the report's lines must sum
to it. Columns (mapped in the process definition): valutadato, bankkonto, orgnr, belop, tekst.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from connectors.nav.tables import open_table, parse_amounts, parse_dates

BANK_COLUMNS = {"valutadato": "valutadato", "bankkonto": "bankkonto", "orgnr": "orgnr", "belop": "belop",
                "tekst": "tekst"}
BANK_REQUIRED = ["valutadato", "bankkonto", "belop"]


def read_bank_credits(path: Path | str, columns: dict[str, str] | None = None,
                      required: list[str] | None = None) -> pd.DataFrame:
    """Frame of valutadato (datetime64), bankkonto (int64), orgnr (int64, 0 if absent), belop_ore, tekst."""
    path, df, cols, rows, problems = open_table(path, "bankfilen", columns or BANK_COLUMNS,
                                                BANK_REQUIRED if required is None else required)
    dates = parse_dates(df[cols["valutadato"]], rows, cols["valutadato"], problems)
    account = df[cols["bankkonto"]].astype(str).str.replace(r"[\s.]", "", regex=True)
    bad = ~account.str.fullmatch(r"\d{11}").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        problems.add(rows[bad], cols["bankkonto"], "kontonummer må ha 11 sifre", account[bad].tolist())
    amount = parse_amounts(df[cols["belop"]], rows, cols["belop"], problems)
    orgnr = np.zeros(len(df), dtype=np.int64)
    if "orgnr" in cols:
        org = df[cols["orgnr"]].astype(str).str.strip()
        ok = org.str.fullmatch(r"\d{9}").fillna(False).to_numpy(dtype=bool)
        orgnr[ok] = org[ok].astype(np.int64).to_numpy()
    text = df[cols["tekst"]].astype(str) if "tekst" in cols else pd.Series([""] * len(df))
    problems.raise_if_any()
    return pd.DataFrame({
        "valutadato": dates.astype("datetime64[s]"),
        "bankkonto": account.where(~pd.Series(bad, index=account.index), "0").astype(np.int64).to_numpy(),
        "orgnr": orgnr,
        "belop_ore": np.nan_to_num(amount).astype(np.int64),
        "tekst": pd.array(text.tolist(), dtype="str"),
        "row_no": rows.astype(np.int32),
    })
