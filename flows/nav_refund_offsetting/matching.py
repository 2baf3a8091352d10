"""Matching NAV's report lines to HR's refund claims and classifying every line: vectorized.

No Python loop runs over lines or claims: every step is a numpy/pandas operation on whole
columns, so 1M lines against 1M claims take seconds. The steps, in order of precedence:

0. Held people: the lines of a person whose claim row could not be read -> CLAIM_ROW_INVALID
   (their claims are neither matched nor aged); claims without til_dato are open to the end of
   the report's period when the rules allow it.
1. Duplicates: a line identical (fnr, bedriftsnummer, code, period, amount) to one already
   offset in an earlier run, or to an earlier line in this batch -> DUPLICATE.
2. Netting: a negative line is netted against the positive line it corrects (same report,
   person, bedriftsnummer, code or a recovery code, overlapping period or no period); the pair
   is then matched as one. A negative line with nothing to net against -> NEGATIVE_LINE.
3. Keys: fnr + bedriftsnummer + benefit code (holiday-pay codes therefore only ever meet
   holiday-pay claims), then the period (overlap, tolerance in days), then the amount.
   One line may settle one claim; several lines whose periods together cover a claim settle it
   together; one line over several parallel claims of the same period -> SPLIT_POSITIONS; one
   line over several consecutive claims -> PERIOD_SHIFT.
4. Per claim (a "unit": the claim and its lines): maksdato inside the claim period and NAV paid
   less -> MAKSDATO_REACHED. Period within tolerance? amount equal (EXACT) or within the rounding
   tolerance (ROUNDING: the larger of tolerance_nok and rounding_per_weekday x weekdays)? Else NAV's own computation explains it where
   HR gave income data: weekday count (WEEKDAYS), 6G (CAP_6G), a grade (GRADE), fewer paid
   days (GRADE), a refund lower than income (PARTIAL_REFUND), 6G shared with the person's
   other bedriftsnummer (SEVERAL_EMPLOYERS); nothing explains it -> AMOUNT_DIFFERENCE.
5. Lines without an open claim: a claim of the same person, code and amount in another period
   (a candidate: HOLIDAY_PAY / PERIOD_SHIFT with the claim, which is then not aged) / already
   offset claim / another benefit code / another bedriftsnummer / unknown person ->
   PAYMENT_WITHOUT_CLAIM, WRONG_BENEFIT_CODE, UNKNOWN_EMPLOYEE.
6. Overrides: an offset whose maksdato changed since the previous report -> MAKSDATO_CHANGED;
   any line of a report whose total differs from the bank credit -> BANK_TOTAL_MISMATCH; a loose
   negative line that reverses a line offset in an earlier report -> REVERSAL, linked to it.
7. Open claims nobody paid, once due: CLAIM_UNPAID_PENDING, or CLAIM_UNPAID_FINAL after the
   deadline (or when the claim starts after the person's maksdato).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from connectors.nav.k27 import CODE_LIST
from flows.kit.frames import group_first, join
from flows.nav_refund_offsetting.outcomes import CODE, OFFSET_REASONS, OUTCOMES, UNSET
from flows.nav_refund_offsetting.rules import Rules, cap_day_kr, day_rate_kr, g_at, weekdays

NAT = np.datetime64("NaT", "D")
DAY = np.timedelta64(1, "D")
_HASH_KEY = "nav-refund-k27-0"  # 16 bytes: fingerprints must stay stable across runs


@dataclass
class MatchInput:
    lines: pd.DataFrame     # k27 LINES_COLUMNS + report_seq, report_id, held
    claims: pd.DataFrame    # hr_claims CLAIM_FRAME_COLUMNS (+ settled, in_case: bool)
    rules: Rules
    as_of: date
    employees: pd.DataFrame | None = None
    known_fps: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.uint64))
    prev_maksdato: pd.DataFrame | None = None  # fnr_hash (uint64), maksdato (datetime64)
    history: pd.DataFrame | list[dict] | None = None  # earlier runs' offset lines (HISTORY_COLUMNS, or the
                                                      # parts offset_history_rows kept: read only when needed)
    held_fnrs: np.ndarray | None = None        # people whose claim rows cannot be read: lines held


@dataclass
class MatchResult:
    lines: pd.DataFrame        # sorted input lines + outcome, unit, claim, fp, maksdato_prev
    units: pd.DataFrame        # one row per unit (a case or an offset)
    unit_claims: pd.DataFrame  # unit, claim, share_ore (claims a unit refers to)
    unpaid: pd.DataFrame       # claim, outcome, age_days, detail
    claims: pd.DataFrame       # the claims as matched (index = claim number used above)


HISTORY_COLUMNS = ["fnr_hash", "bnr", "code", "fra", "til", "amount_ore", "krav_id", "report_id", "line_no"]


def fnr_hash(fnr: np.ndarray) -> np.ndarray:
    """A stable keyed hash of fnr (the store keeps these, not the numbers)."""
    return pd.util.hash_array(np.asarray(fnr, dtype=np.int64), hash_key=_HASH_KEY)


def line_fingerprints(lines: pd.DataFrame) -> np.ndarray:
    """fnr + bedriftsnummer + code + period + amount: equal fingerprints are the same payment."""
    frame = pd.DataFrame({
        "fnr": lines["fnr"].to_numpy(np.int64),
        "bnr": lines["bnr"].to_numpy(np.int64),
        "code": lines["code"].cat.codes.to_numpy(np.int64),
        "fra": lines["fra"].to_numpy("datetime64[D]").view(np.int64),
        "til": lines["til"].to_numpy("datetime64[D]").view(np.int64),
        "amount": lines["amount_ore"].to_numpy(np.int64),
    })
    return pd.util.hash_pandas_object(frame, index=False, hash_key=_HASH_KEY).to_numpy(np.uint64)


def _days(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b).astype("timedelta64[D]").astype(np.int64))


def _month_start(d: date) -> np.datetime64:
    return np.datetime64(d.replace(day=1), "D")


def _code_indexes(codes: list[str]) -> np.ndarray:
    return np.array([CODE_LIST.index(c) for c in codes], dtype=np.int64)


def match(inp: MatchInput) -> MatchResult:
    r = inp.rules
    tol_d, tol = r.tolerance_days, r.tolerance_ore
    lines = inp.lines.sort_values(["report_seq", "line_no"], kind="stable", ignore_index=True)
    claims = _close_open_ended(inp.claims.reset_index(drop=True), lines, inp.as_of)
    n, nc = len(lines), len(claims)

    # ------------------------------------------------------------------ columns as arrays
    fra = lines["fra"].to_numpy("datetime64[D]")
    til = lines["til"].to_numpy("datetime64[D]")
    amt = lines["amount_ore"].to_numpy(np.int64)
    fnr = lines["fnr"].to_numpy(np.int64)
    bnr = lines["bnr"].to_numpy(np.int64)
    code = lines["code"].cat.codes.to_numpy(np.int64)
    seq = lines["report_seq"].to_numpy(np.int64)
    held = lines["held"].to_numpy(bool) if "held" in lines else np.zeros(n, dtype=bool)
    dated = ~np.isnat(fra) & ~np.isnat(til)
    holiday = np.isin(code, _code_indexes(r.holiday_pay_codes))

    cfra = claims["fra"].to_numpy("datetime64[D]")
    ctil = claims["til"].to_numpy("datetime64[D]")
    camt = claims["amount_ore"].to_numpy(np.int64)
    cfnr = claims["fnr"].to_numpy(np.int64)
    cbnr = claims["bnr"].to_numpy(np.int64)
    ccode = claims["code"].cat.codes.to_numpy(np.int64)
    settled = claims["settled"].to_numpy(bool) if "settled" in claims else np.zeros(nc, dtype=bool)
    in_case = claims["in_case"].to_numpy(bool) if "in_case" in claims else np.zeros(nc, dtype=bool)
    held_claim = (np.isin(cfnr, np.asarray(inp.held_fnrs, dtype=np.int64)) if inp.held_fnrs is not None
                  and len(inp.held_fnrs) else np.zeros(nc, dtype=bool))

    # One int64 key per (fnr, bedriftsnummer, code): fnr < 2^37, bedriftsnummer as its index
    # among the few distinct ones (< 2^21), code < 2^5. The fnr itself is the person key.
    bid_all, _ = pd.factorize(np.concatenate([bnr, cbnr]))
    if len(bid_all) and bid_all.max() >= 1 << 21:  # pragma: no cover - 2M bedriftsnummer in one run
        raise ValueError("too many distinct bedriftsnummer for the matching key")
    bid, cbid = bid_all[:n].astype(np.int64), bid_all[n:].astype(np.int64)
    pid, cpid = fnr, cfnr
    key_pb, ckey_pb = (fnr << 21) | bid, (cfnr << 21) | cbid
    key, ckey = (key_pb << 5) | code, (ckey_pb << 5) | ccode

    outcome = np.full(n, UNSET, dtype=np.int8)
    detail = np.full(n, "", dtype=object)
    ref_li: list[np.ndarray] = []   # (line, claim) references of lines that are not claim units
    ref_ci: list[np.ndarray] = []

    # ------------------------------------------------------------------ 1. duplicates
    fp = line_fingerprints(lines)
    dup_prev = np.isin(fp, inp.known_fps) if len(inp.known_fps) else np.zeros(n, dtype=bool)
    dup_batch = pd.Series(fp).duplicated(keep="first").to_numpy()
    dup = dup_prev | dup_batch
    outcome[dup] = CODE["DUPLICATE"]
    detail[dup_prev] = "earlier_run"
    detail[dup_batch & ~dup_prev] = "same_batch"
    active = ~dup
    # A person whose claim row cannot be read: their lines wait (no offset) in that row's case.
    person_held = np.zeros(n, dtype=bool)
    if inp.held_fnrs is not None and len(inp.held_fnrs):
        person_held = active & ~held & np.isin(fnr, np.asarray(inp.held_fnrs, dtype=np.int64))
        outcome[person_held] = CODE["CLAIM_ROW_INVALID"]
        active &= ~person_held

    # ------------------------------------------------------------------ 2. netting negatives
    neg = active & (amt < 0)
    anchor_mask = active & (amt >= 0)
    partner = np.full(n, -1, dtype=np.int64)
    if neg.any() and anchor_mask.any():
        ni, pi = np.flatnonzero(neg), np.flatnonzero(anchor_mask)
        left = pd.DataFrame({"ni": ni, "s": seq[ni], "k": key_pb[ni]})
        right = pd.DataFrame({"pi": pi, "s": seq[pi], "k": key_pb[pi]})
        pairs = left.merge(right, on=["s", "k"])
        if len(pairs):
            a, b = pairs["ni"].to_numpy(), pairs["pi"].to_numpy()
            recovery = np.isin(code[a], _code_indexes(r.recovery_codes))
            compat = (code[a] == code[b]) | recovery
            overlap = ~dated[a] | ~dated[b] | ((fra[a] <= til[b]) & (til[a] >= fra[b]))
            keep = compat & overlap
            a, b = a[keep], b[keep]
            score = (dated[a] & (fra[a] == fra[b]) & (til[a] == til[b])).astype(np.int64) * 2 + (code[a] == code[b])
            frame = pd.DataFrame({"a": a, "b": b, "score": score})
            top = frame.groupby("a")["score"].transform("max")
            best = frame[frame["score"] == top]
            unique = best.groupby("a")["b"].agg(["first", "size"])
            unique = unique[unique["size"] == 1]
            partner[unique.index.to_numpy()] = unique["first"].to_numpy()
    netted = neg & (partner >= 0)
    loose_neg = neg & ~netted
    outcome[loose_neg] = CODE["NEGATIVE_LINE"]

    anchors = np.flatnonzero(anchor_mask)
    amount_eff = amt.copy()
    if netted.any():
        np.add.at(amount_eff, partner[netted], amt[netted])

    # ------------------------------------------------------------------ 3. candidate claims
    open_claims = np.flatnonzero(~settled & ~held_claim)
    assigned = np.full(n, -1, dtype=np.int64)
    n_cand = np.zeros(n, dtype=np.int64)
    if len(anchors) and len(open_claims):
        a, b = join(key[anchors], ckey[open_claims])
        li, ci = anchors[a], open_claims[b]
        dfra, dtil = _days(fra[li], cfra[ci]), _days(til[li], ctil[ci])
        d_close = dated[li] & (dfra <= tol_d) & (dtil <= tol_d)
        overlap = dated[li] & (fra[li] <= ctil[ci]) & (til[li] >= cfra[ci])
        amount_close = np.abs(amount_eff[li] - camt[ci]) <= tol
        cand = ~dated[li] | overlap | d_close
        li, ci, d_close, amount_close = li[cand], ci[cand], d_close[cand], amount_close[cand]
        close = np.where(dated[li], d_close, amount_close)
        n_cand = np.bincount(li, minlength=n)
        n_close = np.bincount(li[close], minlength=n)
        n_close_amt = np.bincount(li[close & amount_close], minlength=n)

        one_close = close & (n_close[li] == 1)
        assigned[li[one_close]] = ci[one_close]
        by_amount = close & amount_close & (n_close[li] >= 2) & (n_close_amt[li] == 1)
        assigned[li[by_amount]] = ci[by_amount]
        single = (n_close[li] == 0) & (n_cand[li] == 1)
        assigned[li[single]] = ci[single]

        unresolved_line = (n_cand >= 1) & (assigned < 0)
        unresolved_line[~anchor_mask] = False
        sel = unresolved_line[li]
        if sel.any():
            uli, uci, uclose = li[sel], ci[sel], close[sel]
            several_close = n_close[uli] >= 2
            refs = np.where(several_close, uclose, True)
            uli, uci = uli[refs], uci[refs]
            ref_li.append(uli)
            ref_ci.append(uci)
            # Parallel claims (a common day in all of them) = positions; consecutive = period shift.
            frame = pd.DataFrame({"li": uli, "f": cfra[uci].view(np.int64), "t": ctil[uci].view(np.int64)})
            agg = frame.groupby("li").agg(f=("f", "max"), t=("t", "min"))
            lines_u = agg.index.to_numpy()
            parallel = agg["f"].to_numpy() <= agg["t"].to_numpy()
            is_split = parallel & dated[lines_u]
            outcome[lines_u[is_split]] = CODE["SPLIT_POSITIONS"]
            outcome[lines_u[~is_split]] = CODE["PERIOD_SHIFT"]
            detail[lines_u[~is_split & dated[lines_u]]] = "several_claims"
            detail[lines_u[~dated[lines_u]]] = "undated"

    # A later line over days an earlier line already paid on the same claim (a G back-payment,
    # a top-up) does not join the claim: it is a payment of its own, as if processed later.
    topup = _overlapping_later_lines(assigned, fra, til, dated)
    if topup.any():
        outcome[topup] = CODE["PAYMENT_WITHOUT_CLAIM"]
        detail[topup] = "topup"
        ref_li.append(np.flatnonzero(topup))
        ref_ci.append(assigned[topup])
        assigned[topup] = -1

    # ------------------------------------------------------------------ 5. lines without a claim
    no_claim = anchor_mask & (n_cand == 0)
    if no_claim.any():
        _classify_without_claim(no_claim, holiday, outcome, detail, ref_li, ref_ci, locals_=dict(
            key=key, key_pb=key_pb, pid=pid, fra=fra, til=til, dated=dated, code=code, ckey=ckey,
            ckey_pb=ckey_pb, cpid=cpid, cfra=cfra, ctil=ctil, ccode=ccode, settled=settled, fnr=fnr, bnr=bnr,
            employees=inp.employees, cfnr=cfnr, cbnr=cbnr, as_of=inp.as_of, amt=amount_eff, camt=camt, tol=tol))

    # ------------------------------------------------------------------ units
    unit_key = np.where(assigned >= 0, assigned, nc + np.arange(n))
    unit_key[netted] = unit_key[partner[netted]]
    ukeys, unit = np.unique(unit_key, return_inverse=True)
    nu = len(ukeys)
    is_claim_unit = ukeys < nc
    u_claim = np.where(is_claim_unit, ukeys, -1)
    n_lines = np.bincount(unit, minlength=nu)
    # The unit's representative: its first line that is not a netted negative (the anchor).
    rep = group_first(np.where(netted, nu, unit), nu + 1)[:nu]
    u_first = rep
    u_nav = np.bincount(unit, weights=amt.astype(np.float64), minlength=nu)
    u_nav = np.rint(u_nav).astype(np.int64)
    span = pd.DataFrame({"u": unit[dated], "f": fra[dated].view(np.int64), "t": til[dated].view(np.int64)})
    agg = span.groupby("u").agg(f=("f", "min"), t=("t", "max"))
    u_fra = np.full(nu, NAT)
    u_til = np.full(nu, NAT)
    u_fra[agg.index.to_numpy()] = agg["f"].to_numpy().view("datetime64[D]")
    u_til[agg.index.to_numpy()] = agg["t"].to_numpy().view("datetime64[D]")
    u_held = np.bincount(unit, weights=held.astype(np.float64), minlength=nu) > 0
    u_holiday = holiday[u_first]

    u_outcome = outcome[u_first].copy()
    u_detail = detail[u_first].copy()

    # ------------------------------------------------------------------ 4. classify claim units
    maks = lines["maksdato"].to_numpy("datetime64[D]")
    calc = _classify_claim_units(np.flatnonzero(is_claim_unit), u_claim, u_nav, u_fra, u_til, u_holiday,
                                 claims, r, u_outcome, u_detail, inp.as_of, maks[u_first])
    extra = _extra_facts(nu, calc, claims, u_claim, r)

    # ------------------------------------------------------------------ 6. overrides
    maks_prev = _previous_maksdato(fnr, seq, maks, active, inp.prev_maksdato)
    changed = ~np.isnat(maks_prev) & ~np.isnat(maks) & (maks_prev != maks) & active
    if r.check_maksdato:
        u_changed = np.bincount(unit, weights=changed.astype(np.float64), minlength=nu) > 0
        offset_codes = np.array([CODE[c] for c in OFFSET_REASONS])
        hit = u_changed & np.isin(u_outcome, offset_codes)
        u_detail[hit] = np.array([OUTCOMES[c] for c in u_outcome[hit]], dtype=object)
        u_outcome[hit] = CODE["MAKSDATO_CHANGED"]
    u_outcome[u_held & (u_outcome != CODE["DUPLICATE"])] = CODE["BANK_TOTAL_MISMATCH"]
    # Lines held for an unreadable claim row are shown in that row's case, not one case each.
    u_held |= np.bincount(unit, weights=person_held.astype(np.float64), minlength=nu) > 0

    # A negative line reversing a line offset in an earlier report (this run or an earlier one).
    _link_reversals(u_outcome, u_detail, extra, u_first, n_lines, lines, fnr, bnr, code, fra, til, dated, amt, seq,
                    outcome_of_line=u_outcome[unit], line_claim=np.where(is_claim_unit[unit], u_claim[unit], -1),
                    claims=claims, history=inp.history, r=r)

    line_outcome = u_outcome[unit]
    # Netted negatives and the lines of a claim unit share the unit's outcome; a duplicate or a
    # loose negative line is its own unit already.

    # ------------------------------------------------------------------ unit -> claims
    uc_parts = [pd.DataFrame({"unit": np.flatnonzero(is_claim_unit), "claim": u_claim[is_claim_unit]})]
    if ref_li:  # claim units are unique by construction; only the references need de-duplicating
        rl, rc = np.concatenate(ref_li), np.concatenate(ref_ci)
        uc_parts.append(pd.DataFrame({"unit": unit[rl], "claim": rc}).drop_duplicates(ignore_index=True))
    unit_claims = pd.concat(uc_parts, ignore_index=True) if len(uc_parts) > 1 else uc_parts[0]
    unit_claims["share_ore"] = _shares(unit_claims, u_nav, camt)

    primary = unit_claims.groupby("unit")["claim"].first()
    u_claim_primary = u_claim.copy()
    u_claim_primary[primary.index.to_numpy()] = primary.to_numpy()

    # ------------------------------------------------------------------ 7. unpaid claims
    consumed = np.zeros(nc, dtype=bool)
    consumed[unit_claims["claim"].to_numpy()] = True
    maks_known = _latest_maksdato(fnr, seq, maks, active, inp.prev_maksdato)
    unpaid = _unpaid_claims(claims, ~settled & ~in_case & ~consumed & ~held_claim, r, inp.as_of, maks_known)

    lines = lines.assign(
        outcome=pd.Categorical.from_codes(line_outcome, categories=list(OUTCOMES)),
        unit=unit, claim=np.where(is_claim_unit[unit], u_claim[unit], -1), fp=fp,
        maksdato_prev=maks_prev.astype("datetime64[s]"), netted=netted, anchor=np.where(netted, partner, -1))
    units = pd.DataFrame({
        "outcome": pd.Categorical.from_codes(u_outcome, categories=list(OUTCOMES)),
        "detail": u_detail,
        "claim": u_claim_primary,
        "claim_unit": is_claim_unit,
        "n_lines": n_lines,
        "first_line": u_first,
        "nav_ore": u_nav,
        "fra": u_fra.astype("datetime64[s]"),
        "til": u_til.astype("datetime64[s]"),
        "held": u_held,
        "extra": extra,
        **calc,
    })
    return MatchResult(lines=lines, units=units, unit_claims=unit_claims, unpaid=unpaid, claims=claims)


def _overlapping_later_lines(assigned: np.ndarray, fra: np.ndarray, til: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Lines assigned to a claim whose period overlaps an earlier line of the same claim."""
    out = np.zeros(len(assigned), dtype=bool)
    idx = np.flatnonzero(assigned >= 0)
    if not len(idx):
        return out
    claim = assigned[idx]
    counts = np.bincount(claim)
    multi = counts[claim] > 1
    if not multi.any():
        return out
    idx, claim = idx[multi], claim[multi]
    big = np.iinfo(np.int64).max
    start = np.where(dated[idx], fra[idx].view(np.int64), np.iinfo(np.int64).min)
    end = np.where(dated[idx], til[idx].view(np.int64), big)
    frame = pd.DataFrame({"li": idx, "c": claim, "f": start, "t": end}).sort_values(["c", "li"], kind="stable")
    running = frame.groupby("c")["t"].cummax()
    prev_end = running.groupby(frame["c"]).shift(1)
    hit = prev_end.notna().to_numpy() & (frame["f"].to_numpy() <= prev_end.fillna(0).to_numpy())
    out[frame["li"].to_numpy()[hit]] = True
    return out


def _shares(unit_claims: pd.DataFrame, u_nav: np.ndarray, camt: np.ndarray) -> np.ndarray:
    """Suggested split of a unit's NAV amount over its claims, proportional to the claims."""
    units = unit_claims["unit"].to_numpy()
    claim_amt = camt[unit_claims["claim"].to_numpy()].astype(np.float64)
    total = np.bincount(units, weights=claim_amt, minlength=len(u_nav))[units]
    share = np.where(total > 0, u_nav[units] * claim_amt / np.where(total > 0, total, 1), 0)
    return np.rint(share).astype(np.int64)


def _classify_without_claim(no_claim, holiday, outcome, detail, ref_li, ref_ci, locals_) -> None:
    v = locals_
    idx = np.flatnonzero(no_claim)
    todo = np.ones(len(idx), dtype=bool)

    def overlapping_pairs(line_idx, line_keys, claim_mask, claim_keys):
        cidx = np.flatnonzero(claim_mask)
        if not len(line_idx) or not len(cidx):
            return np.array([], np.int64), np.array([], np.int64)
        a, b = join(line_keys, claim_keys[cidx])
        li, ci = np.asarray(line_idx)[a], cidx[b]
        ok = ~v["dated"][li] | ((v["fra"][li] <= v["ctil"][ci]) & (v["til"][li] >= v["cfra"][ci]))
        return li[ok], ci[ok]

    # Same person, bedriftsnummer, benefit and amount, another period (or earning year): one case
    # with line and claim side by side; the claim is then never aged as unpaid.
    def candidates(line_idx):
        cidx = np.flatnonzero(~v["settled"])
        if not len(line_idx) or not len(cidx):
            return np.array([], np.int64), np.array([], np.int64)
        a, b = join(v["key"][line_idx], v["ckey"][cidx])
        li, ci = np.asarray(line_idx)[a], cidx[b]
        ok = np.abs(v["amt"][li] - v["camt"][ci]) <= v["tol"]
        return li[ok], ci[ok]

    hol = holiday[idx]
    li, ci = candidates(idx[hol])
    if len(li):
        outcome[li] = CODE["HOLIDAY_PAY"]
        detail[li] = "candidate"
        ref_li.append(li)
        ref_ci.append(ci)
    rest_hol = idx[hol][~np.isin(idx[hol], li)]
    outcome[rest_hol] = CODE["HOLIDAY_PAY"]
    detail[rest_hol] = "no_claim"
    todo &= ~hol

    # A claim with these keys exists but was offset already (G back-payment, late correction).
    li, ci = overlapping_pairs(idx[todo], v["key"][idx[todo]], v["settled"], v["ckey"])
    if len(li):
        outcome[li] = CODE["PAYMENT_WITHOUT_CLAIM"]
        detail[li] = "settled"
        ref_li.append(li)
        ref_ci.append(ci)
        todo &= ~np.isin(idx, li)

    li, ci = candidates(idx[todo])
    if len(li):
        outcome[li] = CODE["PERIOD_SHIFT"]
        detail[li] = "candidate"
        ref_li.append(li)
        ref_ci.append(ci)
        todo &= ~np.isin(idx, li)

    # Same person and bedriftsnummer, another benefit code.
    li, ci = overlapping_pairs(idx[todo], v["key_pb"][idx[todo]], ~v["settled"], v["ckey_pb"])
    if len(li):
        outcome[li] = CODE["WRONG_BENEFIT_CODE"]
        ref_li.append(li)
        ref_ci.append(ci)
        todo &= ~np.isin(idx, li)

    rest = idx[todo]
    if not len(rest):
        return
    emp = v["employees"]
    if emp is not None and len(emp):
        e_fnr, e_bnr = emp["fnr"].to_numpy(np.int64), emp["bnr"].to_numpy(np.int64)
    else:
        e_fnr, e_bnr = v["cfnr"], v["cbnr"]
    pos_keys = pd.util.hash_array(e_fnr) ^ (pd.util.hash_array(e_bnr) * np.uint64(3))
    line_pos = pd.util.hash_array(v["fnr"][rest]) ^ (pd.util.hash_array(v["bnr"][rest]) * np.uint64(3))
    known_position = np.isin(line_pos, pos_keys)
    known_person = np.isin(v["fnr"][rest], np.concatenate([e_fnr, v["cfnr"]]))
    pw = rest[known_position]
    outcome[pw] = CODE["PAYMENT_WITHOUT_CLAIM"]
    old = v["dated"][pw] & (v["til"][pw] < np.datetime64(v["as_of"], "D") - 62 * DAY)
    detail[pw[old]] = "old_period"
    other = np.isin(v["code"][pw], _code_indexes(list("56789")))
    detail[pw[other & ~old]] = "agp_code"
    wrong_bnr = rest[~known_position & known_person]
    outcome[wrong_bnr] = CODE["UNKNOWN_EMPLOYEE"]
    detail[wrong_bnr] = "wrong_bnr"
    if len(wrong_bnr):
        li, ci = overlapping_pairs(wrong_bnr, v["pid"][wrong_bnr], ~v["settled"], v["cpid"])
        if len(li):
            ref_li.append(li)
            ref_ci.append(ci)
    unknown = rest[~known_position & ~known_person]
    outcome[unknown] = CODE["UNKNOWN_EMPLOYEE"]
    detail[unknown] = "unknown"


def _classify_claim_units(units_idx, u_claim, u_nav, u_fra, u_til, u_holiday, claims, r: Rules,
                          u_outcome, u_detail, as_of: date, u_maks: np.ndarray) -> dict[str, np.ndarray]:
    """Outcome of each claim unit, and NAV's computation for the explanation."""
    nu = len(u_nav)
    out = {
        "claim_ore": np.zeros(nu, np.int64), "expected_ore": np.full(nu, -1, np.int64),
        "weekdays": np.zeros(nu, np.int64), "day_rate_kr": np.zeros(nu, np.int64),
        "grade_used": np.full(nu, np.nan), "g": np.zeros(nu, np.int64), "days_paid": np.zeros(nu, np.int64),
        "other_basis_ore": np.zeros(nu, np.float64), "basis_ore": np.full(nu, np.nan),
        "g_day_cap_kr": np.zeros(nu, np.int64), "rounding_tol_ore": np.zeros(nu, np.int64),
        "maksdato": np.full(nu, NAT), "days_after_maks": np.zeros(nu, np.int64),
    }
    if not len(units_idx):
        return out
    tol, tol_d = r.tolerance_ore, r.tolerance_days
    claim_amount = claims["amount_ore"].to_numpy(np.int64)
    claim_fra = claims["fra"].to_numpy("datetime64[D]")
    claim_til = claims["til"].to_numpy("datetime64[D]")

    def period_and_diff(u):
        c = u_claim[u]
        fra, til = u_fra[u], u_til[u]
        dated = ~np.isnat(fra)
        fra = np.where(dated, fra, claim_fra[c])
        til = np.where(dated, til, claim_til[c])
        ok = ~dated | ((_days(fra, claim_fra[c]) <= tol_d) & (_days(til, claim_til[c]) <= tol_d))
        return c, fra, til, dated, ok, u_nav[u] - claim_amount[c]

    # Most units match exactly or within the rounding tolerance: settle those first, cheaply,
    # and spend NAV's full computation only on the rest. NAV rounds the day rate to whole kroner,
    # so a claim computed from the monthly amount may differ by up to `rounding_per_weekday` per
    # weekday paid (65 weekdays -> 65 kr): the rounding tolerance is the larger of the two.
    c, fra, til, dated, period_ok, diff = period_and_diff(units_idx)
    rtol = np.full(len(units_idx), tol, dtype=np.int64)
    beyond = period_ok & (np.abs(diff) > tol) & ~u_holiday[units_idx]  # weekdays only where they matter
    if beyond.any() and r.rounding_per_weekday > 0:
        per_day = weekdays(fra[beyond], til[beyond]) * int(round(r.rounding_per_weekday * 100))
        rtol[beyond] = np.maximum(tol, per_day)
    quick = period_ok & (np.abs(diff) <= rtol) & (u_nav[units_idx] > 0)
    out["claim_ore"][units_idx] = claim_amount[c]
    u_outcome[units_idx[quick]] = np.where(diff[quick] == 0, CODE["EXACT"], CODE["ROUNDING"])
    u_detail[units_idx[quick]] = np.where(np.abs(diff[quick]) > tol, "per_weekday", "")
    pw = quick & (np.abs(diff) > tol)
    if pw.any():
        out["rounding_tol_ore"][units_idx[pw]] = rtol[pw]
        out["weekdays"][units_idx[pw]] = weekdays(fra[pw], til[pw])
    u = units_idx[~quick]
    if not len(u):
        return out
    c, fra, til, dated, period_ok, diff = period_and_diff(u)
    # Maksdato inside the claimed period and NAV paid less: sick pay ended at maksdato.
    maks = u_maks[u]
    maks_inside = (~np.isnat(maks) & (maks >= claim_fra[c]) & (maks < claim_til[c]) & (u_nav[u] > 0)
                   & (u_nav[u] < claim_amount[c] - tol) & ~u_holiday[u])
    nav = u_nav[u]
    cl_amt = claim_amount[c]
    cfra, ctil = claim_fra[c], claim_til[c]

    income = claims["inntekt_ore"].to_numpy(np.float64)[c]
    refund = claims["refusjon_ore"].to_numpy(np.float64)[c]
    basis_f = np.fmin(income, refund)
    has_income = ~np.isnan(basis_f)
    basis = np.where(has_income, basis_f, 0).astype(np.int64)
    grade_c = claims["grad"].to_numpy(np.float64)[c]
    grade_c = np.where(np.isnan(grade_c), 100.0, grade_c)
    first_day = claims["forste_fravaersdag"].to_numpy("datetime64[D]")[c]
    first_day = np.where(np.isnat(first_day), cfra - 16 * DAY, first_day)
    g = g_at(r, first_day)
    wd = weekdays(fra, til)
    full = np.full(len(u), 100.0)
    rate100 = day_rate_kr(basis, g, full)
    rate_c = np.where(grade_c >= r.min_grade, day_rate_kr(basis, g, grade_c), 0)
    e100 = rate100 * wd * 100
    e_c = rate_c * wd * 100
    cap = basis * 12 > g * 6 * 100
    partial = has_income & ~np.isnan(income) & ~np.isnan(refund) & (refund < income)
    e_income = day_rate_kr(np.where(np.isnan(income), 0, income).astype(np.int64), g, full) * wd * 100

    other = _other_employer_basis(claims, c)
    several = has_income & (other > 0) & ((basis + other) * 12 > g * 6 * 100)

    # Grade NAV paid, if the amount is a whole-kroner day rate x weekdays at an integer grade.
    per_day_ok = (wd > 0) & (nav > 0) & (nav % np.maximum(wd * 100, 1) == 0)
    paid_day = np.where(per_day_ok, nav // np.maximum(wd * 100, 1), 0)
    annual_kr = np.minimum(basis * 12, g * 6 * 100) / 100.0
    g_est = np.where(annual_kr > 0, paid_day * 260 * 100 / np.where(annual_kr > 0, annual_kr, 1), 0)
    grade_hit = np.zeros(len(u), dtype=bool)
    grade_found = np.full(len(u), np.nan)
    for step in (np.floor, np.ceil):
        cand = step(g_est)
        valid = (cand >= r.min_grade) & (cand <= 99) & per_day_ok & has_income
        hit = valid & (day_rate_kr(basis, g, np.where(valid, cand, 100.0)) == paid_day) & ~grade_hit
        grade_found[hit] = cand[hit]
        grade_hit |= hit
    # Fewer days paid at the claim's rate (holiday, leave, worked more).
    unit_rate = np.maximum(rate_c * 100, 1)
    fewer = has_income & (rate_c > 0) & (nav > 0) & (nav % unit_rate == 0) & (nav // unit_rate < wd)
    days_paid = np.where(fewer, nav // unit_rate, 0)

    # Without income data: a whole-calendar-month claim is a monthly amount.
    fra_m = cfra.astype("datetime64[M]")
    whole_month = (cfra == fra_m.astype("datetime64[D]")) & (ctil == (fra_m + 1).astype("datetime64[D]") - DAY)
    implied_rate = np.where(grade_c >= r.min_grade, day_rate_kr(cl_amt, g, grade_c), 0)
    e_implied = implied_rate * wd * 100
    implied_cap = cl_amt * 12 > g * 6 * 100

    near = lambda expected: np.abs(nav - expected) <= tol  # noqa: E731
    matched_exactly = period_ok & (np.abs(diff) <= tol)
    conds = [
        u_holiday[u] & ~matched_exactly,
        nav <= 0,
        maks_inside,
        ~period_ok,
        diff == 0,
        np.abs(diff) <= tol,
        several,
        has_income & (grade_c < 100) & near(e_c),
        has_income & near(e100) & partial & (cl_amt * 2 > e100 + e_income),
        has_income & near(e100) & cap,
        has_income & near(e100),
        has_income & grade_hit,
        has_income & fewer,
        ~has_income & whole_month & near(e_implied) & (grade_c < 100),
        ~has_income & whole_month & near(e_implied) & ~implied_cap,
        ~has_income & (grade_c < 100) & near(np.rint(cl_amt * grade_c / 100)),
    ]
    choices = ["HOLIDAY_PAY", "NEGATIVE_LINE", "MAKSDATO_REACHED", "PERIOD_SHIFT", "EXACT", "ROUNDING", "SEVERAL_EMPLOYERS", "GRADE",
               "PARTIAL_REFUND", "CAP_6G", "WEEKDAYS", "GRADE", "GRADE", "GRADE", "WEEKDAYS", "GRADE"]
    details = ["amount", "net_negative", "", "period", "", "", "", "registered_grade", "", "", "", "inferred_grade",
               "fewer_days", "implied_grade", "implied_month", "claim_grade"]
    inferred = choices.index("GRADE", choices.index("WEEKDAYS"))
    which = np.select(conds, np.arange(len(conds)), default=-1)
    result = np.where(which >= 0, np.array([CODE[x] for x in choices])[which], CODE["AMOUNT_DIFFERENCE"])
    u_outcome[u] = result
    u_detail[u] = np.where(which >= 0, np.array(details, dtype=object)[which],
                           np.where(~has_income & whole_month & implied_cap, "cap_unknown_income", ""))

    # NAV's expected amount for the explanation (what the case shows as "Beregnet").
    expected = np.where(has_income, np.where(grade_c < 100, e_c, e100), np.where(whole_month, e_implied, -1))
    several_rate = np.where(several, _several_rate(basis, other, g, grade_c), 0)
    expected = np.where(several, several_rate * wd * 100, expected)
    grade_used = np.where(grade_hit & (result == CODE["GRADE"]) & (which == inferred), grade_found, grade_c)
    out["claim_ore"][u] = cl_amt
    out["expected_ore"][u] = expected
    out["weekdays"][u] = wd
    out["day_rate_kr"][u] = np.where(several, several_rate, np.where(has_income, np.where(grade_c < 100, rate_c, rate100),
                                                                     implied_rate))
    out["grade_used"][u] = grade_used
    out["g"][u] = g
    out["days_paid"][u] = days_paid
    out["other_basis_ore"][u] = other
    out["basis_ore"][u] = np.where(has_income, basis, np.nan)
    out["g_day_cap_kr"][u] = cap_day_kr(g)
    reached = u[result == CODE["MAKSDATO_REACHED"]]
    if len(reached):
        m = maks_inside & (result == CODE["MAKSDATO_REACHED"])
        out["maksdato"][reached] = maks[m]
        out["days_after_maks"][reached] = weekdays(maks[m] + DAY, ctil[m])
        paid_to_maks = weekdays(np.maximum(fra[m], cfra[m]), maks[m])
        out["weekdays"][reached] = paid_to_maks
        out["expected_ore"][reached] = np.where(has_income[m], np.where(grade_c[m] < 100, rate_c[m], rate100[m])
                                                * paid_to_maks * 100, -1)
    return out


def _several_rate(basis, other, g, grade):
    """NAV's day rate when 6G is shared by several employers: proportional to each one's income."""
    total = (basis + other).astype(np.float64)
    annual = np.minimum(total * 12, g * 6 * 100.0) * np.where(total > 0, basis / np.where(total > 0, total, 1), 0)
    return np.floor(annual / 100.0 / 260 * grade / 100 + 0.5).astype(np.int64)


def _other_employer_basis(claims: pd.DataFrame, c: np.ndarray) -> np.ndarray:
    """For claims c: the income basis of the same person's overlapping claims under other bedriftsnummer."""
    out = np.zeros(len(c), dtype=np.float64)
    fnr = claims["fnr"].to_numpy(np.int64)
    bnr = claims["bnr"].to_numpy(np.int64)
    # People with claims under two or more bedriftsnummer: after sorting by fnr, some neighbour
    # pair of theirs differs in bedriftsnummer (one sort instead of a group-by over all claims).
    order = np.argsort(fnr, kind="stable")
    f, b = fnr[order], bnr[order]
    multi = np.unique(f[1:][(f[1:] == f[:-1]) & (b[1:] != b[:-1])])
    if not len(multi):
        return out
    sel = np.flatnonzero(np.isin(fnr, multi))
    income = claims["inntekt_ore"].to_numpy(np.float64)
    refund = claims["refusjon_ore"].to_numpy(np.float64)
    basis = np.fmin(income, refund)
    frame = pd.DataFrame({"ci": sel, "f": fnr[sel], "b": bnr[sel], "fra": claims["fra"].to_numpy("datetime64[D]")[sel],
                          "til": claims["til"].to_numpy("datetime64[D]")[sel], "basis": basis[sel]})
    pairs = frame.merge(frame, on="f", suffixes=("", "_o"))
    pairs = pairs[(pairs["b"] != pairs["b_o"]) & (pairs["fra"] <= pairs["til_o"]) & (pairs["til"] >= pairs["fra_o"])]
    per_claim = pairs.groupby("ci")["basis_o"].sum()
    lookup = pd.Series(per_claim.to_numpy(), index=per_claim.index.to_numpy())
    hit = np.isin(c, lookup.index.to_numpy())
    out[hit] = lookup.reindex(c[hit]).to_numpy()
    return np.nan_to_num(out)


def _previous_maksdato(fnr, seq, maks, active, prev_state: pd.DataFrame | None) -> np.ndarray:
    """Per line: the person's maksdato in the previous report (this batch or an earlier run)."""
    n = len(fnr)
    out = np.full(n, NAT)
    has = active & ~np.isnat(maks)
    if not has.any():
        return out
    frame = pd.DataFrame({"fnr": fnr[has], "seq": seq[has], "maks": maks[has].view(np.int64)})
    per_report = frame.drop_duplicates(["fnr", "seq"]).sort_values(["fnr", "seq"], kind="stable")
    per_report["prev"] = per_report.groupby("fnr")["maks"].shift(1)
    first = per_report["prev"].isna().to_numpy()
    if prev_state is not None and len(prev_state) and first.any():
        state = pd.Series(prev_state["maksdato"].to_numpy("datetime64[D]").view(np.int64),
                          index=prev_state["fnr_hash"].to_numpy(np.uint64))
        state = state[~state.index.duplicated(keep="last")]
        hashes = fnr_hash(per_report["fnr"].to_numpy()[first])
        found = state.reindex(hashes).to_numpy()
        prev = per_report["prev"].to_numpy(np.float64, copy=True)
        prev[np.flatnonzero(first)] = found
        per_report["prev"] = prev
    # Back to every line: (fnr, report) is unique in per_report, so a sort-based join suffices.
    a, b = join(frame["fnr"].to_numpy() << 16 | frame["seq"].to_numpy(),
                per_report["fnr"].to_numpy() << 16 | per_report["seq"].to_numpy())
    prev = np.full(len(frame), np.nan)
    prev[a] = per_report["prev"].to_numpy(np.float64)[b]
    valid = ~np.isnan(prev)
    vals = np.full(len(prev), NAT)
    vals[valid] = prev[valid].astype(np.int64).view("datetime64[D]")
    out[np.flatnonzero(has)] = vals
    return out


def _latest_maksdato(fnr, seq, maks, active, prev_state: pd.DataFrame | None) -> pd.Series:
    """fnr -> the latest maksdato known (this batch first, then earlier runs)."""
    has = active & ~np.isnat(maks)
    frame = pd.DataFrame({"fnr": fnr[has], "seq": seq[has], "maks": maks[has]})
    latest = frame.sort_values("seq", kind="stable").drop_duplicates("fnr", keep="last").set_index("fnr")["maks"]
    return latest


def latest_maksdato_per_person(result: MatchResult) -> pd.DataFrame:
    """What the state keeps for the next run: fnr_hash -> latest maksdato seen in this batch."""
    lines = result.lines
    ok = ~lines["maksdato"].isna() & (lines["outcome"] != "DUPLICATE")
    frame = lines.loc[ok, ["fnr", "report_seq", "maksdato"]].sort_values("report_seq", kind="stable")
    last = frame.drop_duplicates("fnr", keep="last")
    return pd.DataFrame({"fnr_hash": fnr_hash(last["fnr"].to_numpy()),
                         "maksdato": last["maksdato"].to_numpy("datetime64[D]")})


def _unpaid_claims(claims: pd.DataFrame, candidates: np.ndarray, r: Rules, as_of: date,
                   maks_known: pd.Series) -> pd.DataFrame:
    ctil = claims["til"].to_numpy("datetime64[D]")
    cfra = claims["fra"].to_numpy("datetime64[D]")
    due = candidates & (ctil < _month_start(as_of))
    idx = np.flatnonzero(due)
    age = (np.datetime64(as_of, "D") - ctil[idx]).astype(np.int64)
    maks = pd.Series(maks_known.to_numpy("datetime64[D]") if len(maks_known) else np.array([], "datetime64[D]"),
                     index=maks_known.index.to_numpy() if len(maks_known) else np.array([], np.int64))
    person_maks = maks.reindex(claims["fnr"].to_numpy(np.int64)[idx]).to_numpy("datetime64[D]") if len(maks) else \
        np.full(len(idx), NAT)
    past_maks = ~np.isnat(person_maks) & (cfra[idx] > person_maks)
    final = (age > r.claim_unpaid_final_after_days) | past_maks
    return pd.DataFrame({
        "claim": idx,
        "outcome": np.where(final, "CLAIM_UNPAID_FINAL", "CLAIM_UNPAID_PENDING"),
        "age_days": age,
        "detail": np.where(past_maks, "past_maksdato", np.where(final, "deadline", "")),
        "maksdato": person_maks.astype("datetime64[s]"),
    })


def _close_open_ended(claims: pd.DataFrame, lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """A claim registered without til_dato (an ongoing absence; the definition allows it) is
    read as open to the end of the report's period: the latest period end among the lines,
    else the day before the month of `as_of`."""
    if "open_ended" not in claims or not claims["open_ended"].to_numpy(bool).any():
        return claims
    til = lines["til"].to_numpy("datetime64[D]")
    til = til[~np.isnat(til)]
    end = til.max() if len(til) else _month_start(as_of) - DAY
    claims = claims.copy()
    open_ = claims["open_ended"].to_numpy(bool)
    fra = claims["fra"].to_numpy("datetime64[D]")[open_]
    new_til = claims["til"].to_numpy("datetime64[D]").copy()
    new_til[open_] = np.maximum(fra, end)
    claims["til"] = new_til.astype("datetime64[s]")
    return claims


def offset_history_rows(result: MatchResult, report_id: str) -> dict[str, Any]:
    """What a report's item keeps of the lines it offset, so a later negative line can be linked
    to one of them: columns of HISTORY_COLUMNS (fnr as its keyed hash in hex, dates as days since
    1970, -1 when missing; report_id once). About 70 bytes a line as JSON."""
    lines = result.lines
    outcome = lines["outcome"].astype(str).to_numpy()
    claim = lines["claim"].to_numpy()
    mine = np.flatnonzero((lines["report_id"].astype(str).to_numpy() == report_id)
                          & np.isin(outcome, OFFSET_REASONS) & (claim >= 0)
                          & (lines["amount_ore"].to_numpy() > 0))

    def days(col: str) -> list[int]:
        d = lines[col].to_numpy("datetime64[D]")[mine]
        return np.where(np.isnat(d), -1, d.view(np.int64)).tolist()

    return {
        "report_id": report_id,
        "fnr_hash": [f"{int(h):016x}" for h in fnr_hash(lines["fnr"].to_numpy(np.int64)[mine])],
        "bnr": lines["bnr"].to_numpy(np.int64)[mine].tolist(),
        "code": lines["code"].astype(str).to_numpy()[mine].tolist(),
        "fra": days("fra"), "til": days("til"),
        "amount_ore": lines["amount_ore"].to_numpy(np.int64)[mine].tolist(),
        "krav_id": result.claims["krav_id"].astype(str).to_numpy()[claim[mine]].tolist(),
        "line_no": lines["line_no"].to_numpy(np.int64)[mine].tolist(),
    }


def history_frame(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """What offset_history_rows kept, from every earlier report -> a frame for MatchInput.history."""
    parts = [p for p in parts if p.get("line_no")]
    if not parts:
        return pd.DataFrame({c: [] for c in HISTORY_COLUMNS})

    def cat(key: str, dtype) -> np.ndarray:
        return np.concatenate([np.asarray(p[key], dtype=dtype) for p in parts])

    def dates(key: str) -> np.ndarray:
        d = cat(key, np.int64)
        return np.where(d < 0, NAT, d.view("datetime64[D]"))

    hashes = bytes.fromhex("".join(h for p in parts for h in p["fnr_hash"]))
    return pd.DataFrame({
        "fnr_hash": np.frombuffer(hashes, dtype=">u8").astype(np.uint64), "bnr": cat("bnr", np.int64),
        "code": cat("code", object), "fra": dates("fra"), "til": dates("til"), "amount_ore": cat("amount_ore", np.int64),
        "krav_id": cat("krav_id", object),
        "report_id": np.concatenate([np.full(len(p["line_no"]), p["report_id"], dtype=object) for p in parts]),
        "line_no": cat("line_no", np.int64),
    })


def _link_reversals(u_outcome, u_detail, extra, u_first, n_lines, lines, fnr, bnr, code, fra, til, dated, amt, seq,
                    outcome_of_line, line_claim, claims, history, r: Rules) -> None:
    """A negative line nothing in its own report nets against, whose person, bedriftsnummer and
    benefit (or a recovery code) match a line offset in an earlier report (this run or an earlier
    run), with an overlapping or no period and an offset at least as large: REVERSAL, linked to
    that offset (claim, report, line) with the proposed reversal posting for HR to confirm."""
    neg_units = np.flatnonzero((u_outcome == CODE["NEGATIVE_LINE"]) & (u_detail == "") & (n_lines == 1))
    if not len(neg_units):
        return
    ni = u_first[neg_units]
    neg = pd.DataFrame({"u": neg_units, "fh": fnr_hash(fnr[ni]), "bnr": bnr[ni], "code": code[ni],
                        "fra": fra[ni], "til": til[ni], "amount": -amt[ni], "seq": seq[ni]})
    offset_codes = np.array([CODE[c] for c in OFFSET_REASONS])
    bi = np.flatnonzero(np.isin(outcome_of_line, offset_codes) & (line_claim >= 0) & (amt > 0) & np.isin(fnr, fnr[ni]))
    parts = [pd.DataFrame({"fh": fnr_hash(fnr[bi]), "bnr": bnr[bi], "ccode": code[bi], "cfra": fra[bi],
                           "ctil": til[bi], "camount": amt[bi],
                           "krav_id": claims["krav_id"].astype(str).to_numpy()[line_claim[bi]],
                           "report_id": lines["report_id"].astype(str).to_numpy()[bi],
                           "line_no": lines["line_no"].to_numpy()[bi], "cseq": seq[bi]})]
    if isinstance(history, list):
        history = history_frame(history)
    if history is not None and len(history):
        h = history
        parts.insert(0, pd.DataFrame({
            "fh": h["fnr_hash"].to_numpy(np.uint64), "bnr": h["bnr"].to_numpy(np.int64),
            "ccode": np.array([CODE_LIST.index(str(c)) for c in h["code"]], dtype=np.int64),
            "cfra": h["fra"].to_numpy("datetime64[D]"), "ctil": h["til"].to_numpy("datetime64[D]"),
            "camount": h["amount_ore"].to_numpy(np.int64), "krav_id": h["krav_id"].astype(str).to_numpy(),
            "report_id": h["report_id"].astype(str).to_numpy(), "line_no": h["line_no"].to_numpy(np.int64),
            "cseq": np.full(len(h), -1, dtype=np.int64)}))
    earlier = pd.concat(parts, ignore_index=True)
    earlier["order"] = np.arange(len(earlier))
    pairs = neg.merge(earlier, on=["fh", "bnr"])
    if not len(pairs):
        return
    recovery = np.isin(pairs["code"].to_numpy(), _code_indexes(r.recovery_codes))
    nd = ~np.isnat(pairs["fra"].to_numpy("datetime64[D]")) & ~np.isnat(pairs["til"].to_numpy("datetime64[D]"))
    cd = ~np.isnat(pairs["cfra"].to_numpy("datetime64[D]")) & ~np.isnat(pairs["ctil"].to_numpy("datetime64[D]"))
    overlap = ~nd | ~cd | ((pairs["fra"] <= pairs["ctil"]) & (pairs["til"] >= pairs["cfra"])).to_numpy()
    ok = ((pairs["cseq"] < pairs["seq"]).to_numpy() & ((pairs["code"] == pairs["ccode"]).to_numpy() | recovery)
          & overlap & (pairs["camount"] >= pairs["amount"]).to_numpy())
    pairs = pairs[ok]
    if not len(pairs):
        return
    same_period = (nd[ok] & cd[ok] & (pairs["fra"] == pairs["cfra"]).to_numpy() & (pairs["til"] == pairs["ctil"]).to_numpy())
    pairs = pairs.assign(score=(pairs["camount"] == pairs["amount"]).to_numpy() * 2 + same_period)
    best = pairs.sort_values(["u", "score", "order"], ascending=[True, False, False]).drop_duplicates("u")
    ledger = r.ledger
    for row in best.itertuples(index=False):
        u = int(row.u)
        u_outcome[u] = CODE["REVERSAL"]
        proposed = int(row.amount)
        kr = round(proposed / 100, 2)
        extra[u] = {
            "claim_ids": [row.krav_id],
            "reversal": {
                "claim_id": row.krav_id, "report_id": row.report_id, "line_no": int(row.line_no),
                "offset_amount": round(int(row.camount) / 100, 2), "offset_amount_ore": int(row.camount),
                "proposed_amount": kr, "proposed_amount_ore": proposed,
                "posting": [{"konto": ledger.claim_account, "debet": kr},
                            {"konto": ledger.bank_account, "kredit": kr}],
            },
        }


def _extra_facts(nu: int, calc: dict[str, np.ndarray], claims: pd.DataFrame, u_claim: np.ndarray, r: Rules
                 ) -> np.ndarray:
    """Per unit: facts the explanation and the case need beyond the common columns (or None)."""
    extra = np.full(nu, None, dtype=object)
    for u in np.flatnonzero(calc["rounding_tol_ore"] > 0):
        extra[u] = {"rounding": {"weekdays": int(calc["weekdays"][u]), "per_weekday_nok": r.rounding_per_weekday,
                                 "tolerance_ore": int(calc["rounding_tol_ore"][u])}}
    ctil = claims["til"].to_numpy("datetime64[D]")
    for u in np.flatnonzero(~np.isnat(calc["maksdato"])):
        extra[u] = {"maksdato": {"maksdato": str(calc["maksdato"][u]), "days_after": int(calc["days_after_maks"][u]),
                                 "first_day_after": str(calc["maksdato"][u] + DAY),
                                 "claim_til": str(ctil[u_claim[u]]), "days_paid": int(calc["weekdays"][u])}}
    return extra
