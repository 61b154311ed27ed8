"""Exact decimal arithmetic over numpy arrays, never through a float.

A decimal is a pair per row: an int64 coefficient ``c`` with ``|c| < 10**18`` and a scale
``s`` in 0..18, meaning ``c / 10**s``. Results that fit in 18 digits are exact (and keep the
scale Python's ``decimal`` would give: ``1.50 + 2 = 3.50``); a result that needs more digits
after the point is rounded half-even to 18 digits in total (at most 18 decimals), and one with
more than 18 digits before the point is an overflow, reported per row. Intermediate products
and aligned sums are carried exactly in two base-10**18 limbs (``hi * 10**18 + lo``), so
rounding happens once, on the exact value.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

DIGITS = 18
LIMIT = 10**DIGITS
POW10 = np.array([10**k for k in range(DIGITS + 1)], dtype=np.int64)
_E9 = 10**9


def ndigits(x: I64) -> I64:
    """Decimal digits of non-negative values (0 has none); values up to 9.2e18."""
    return np.searchsorted(POW10, x, side="right").astype(np.int64)


def _p10(k: I64) -> I64:
    """10**k per row for k in 0..18 (other k are clipped; callers mask those rows)."""
    return POW10[np.clip(k, 0, DIGITS)]


def wide_mul(a: I64, b: I64) -> tuple[I64, I64]:
    """Exact product of non-negative values up to 10**18, as (hi, lo) with lo < 10**18."""
    a1, a0 = np.divmod(a, _E9)
    b1, b0 = np.divmod(b, _E9)
    m1, m0 = np.divmod(a1 * b0 + a0 * b1, _E9)
    lo = m0 * _E9 + a0 * b0
    carry = (lo >= LIMIT).astype(np.int64)
    return a1 * b1 + m1 + carry, lo - carry * LIMIT


def finish(neg: Mask, hi: I64, lo: I64, s: I64) -> tuple[I64, I64, Mask]:
    """Round the exact magnitude ``(hi * 10**18 + lo) / 10**s`` (s in 0..36) to a decimal:
    (coefficient, scale, overflow)."""
    d = np.where(hi > 0, DIGITS + ndigits(hi), ndigits(lo))
    intd = np.maximum(d - s, 0)
    over = intd > DIGITS
    t = np.minimum(s, DIGITS - np.minimum(intd, DIGITS))
    j = s - t  # digits to drop, 0..36
    # j <= 18: the kept part is hi * 10**(18-j) + lo // 10**j
    ja = np.minimum(j, DIGITS)
    pa = POW10[ja]
    qa = hi * POW10[DIGITS - ja] + lo // pa
    twice = 2 * (lo % pa)
    gt = twice > pa
    eq = twice == pa
    big = j > DIGITS
    if big.any():  # j > 18: the kept part is hi // 10**(j-18); the rest is compared in limbs
        pb = _p10(j - DIGITS)
        qb = hi // pb
        carry = (2 * lo >= LIMIT).astype(np.int64)
        xh = 2 * (hi % pb) + carry
        xl = 2 * lo - carry * LIMIT
        qa = np.where(big, qb, qa)
        gt = np.where(big, (xh > pb) | ((xh == pb) & (xl > 0)), gt)
        eq = np.where(big, (xh == pb) & (xl == 0), eq)
    q = qa + (gt | (eq & (qa % 2 == 1)))
    q, t, over2 = _carry(q, t)
    over |= over2
    q = np.where(over, 0, q)
    return np.where(neg, -q, q), np.where(over, 0, t), over


def _carry(q: I64, t: I64) -> tuple[I64, I64, Mask]:
    """Rounding up may reach 10**18: drop a (zero) decimal, or overflow at scale 0."""
    top = q >= LIMIT
    over = top & (t == 0)
    return np.where(top, q // 10, q), np.where(top, t - 1, t), over


def add(a: I64, sa: I64, b: I64, sb: I64) -> tuple[I64, I64, Mask]:
    """a + b: (coefficient, scale, overflow)."""
    s = np.maximum(sa, sb)
    ka, kb = s - sa, s - sb
    fit = (np.abs(a) < POW10[DIGITS - ka]) & (np.abs(b) < POW10[DIGITS - kb])
    total = np.where(fit, a, 0) * POW10[ka] + np.where(fit, b, 0) * POW10[kb]
    ok = fit & (np.abs(total) < LIMIT)
    c, over = total, np.zeros(len(a), dtype=bool)
    if not ok.all():
        i = np.flatnonzero(~ok)
        ha, la = wide_mul(np.abs(a[i]), POW10[ka[i]])
        hb, lb = wide_mul(np.abs(b[i]), POW10[kb[i]])
        na, nb = a[i] < 0, b[i] < 0
        same = na == nb
        # same sign: add the limbs
        lo_s = la + lb
        cs = (lo_s >= LIMIT).astype(np.int64)
        hi_s, lo_s = ha + hb + cs, lo_s - cs * LIMIT
        # opposite signs: larger magnitude minus smaller
        a_ge = (ha > hb) | ((ha == hb) & (la >= lb))
        lo_d = np.where(a_ge, la - lb, lb - la)
        borrow = (lo_d < 0).astype(np.int64)
        hi_d = np.where(a_ge, ha - hb, hb - ha) - borrow
        lo_d = lo_d + borrow * LIMIT
        neg = np.where(same, na, np.where(a_ge, na, nb))
        ci, si, oi = finish(
            neg, np.where(same, hi_s, hi_d), np.where(same, lo_s, lo_d), s[i].astype(np.int64)
        )
        c = c.copy()
        s = s.copy()
        c[i], s[i], over[i] = ci, si, oi
    return cast(I64, c), s, over


def mul(a: I64, sa: I64, b: I64, sb: I64) -> tuple[I64, I64, Mask]:
    """a * b: (coefficient, scale, overflow)."""
    s = sa + sb
    ab = np.abs(b)
    ok = (s <= DIGITS) & ((ab == 0) | (np.abs(a) <= (LIMIT - 1) // np.maximum(ab, 1)))
    c = np.where(ok, a, 0) * np.where(ok, b, 0)
    over = np.zeros(len(a), dtype=bool)
    if not ok.all():
        i = np.flatnonzero(~ok)
        hi, lo = wide_mul(np.abs(a[i]), ab[i])
        ci, si, oi = finish((a[i] < 0) != (b[i] < 0), hi, lo, s[i])
        s = s.copy()
        c[i], s[i], over[i] = ci, si, oi
    return c, s, over


def div(a: I64, sa: I64, b: I64, sb: I64) -> tuple[I64, I64, Mask, Mask]:
    """a / b: (coefficient, scale, overflow, division by zero). Exact when the quotient fits
    in 18 digits, else rounded half-even to 18 digits (at most 18 decimals)."""
    n = len(a)
    zero = b == 0
    num = np.abs(a)
    den = np.where(zero, 1, np.abs(b))
    neg = (a < 0) != (b < 0)
    e = sb - sa
    q0, r0 = np.divmod(num, den)
    # the position of the quotient's first digit: value in [10**mag, 10**(mag+1))
    dn, dd = ndigits(num), ndigits(den)
    k = np.maximum(dd - dn, 0)
    below = num < (den + _p10(k) - 1) // _p10(k)  # num * 10**k < den
    mag = np.where(q0 > 0, ndigits(q0) - 1, -(k - 1 + below) - 1) + e
    intd = np.where(num > 0, np.maximum(mag + 1, 0), 0)
    over = intd > DIGITS
    t = DIGITS - np.minimum(intd, DIGITS)
    f = t + e  # decimals of num/den to produce
    live = ~over & ~zero & (num > 0)
    q = np.zeros(n, dtype=np.int64)
    up = np.zeros(n, dtype=bool)
    exact = np.ones(n, dtype=bool)
    pos = live & (f >= 0)
    if pos.any():  # long division, several digits per step while they fit in uint64
        i = np.flatnonzero(pos)
        qq = q0[i].astype(np.uint64)
        r = r0[i].astype(np.uint64)
        du = den[i].astype(np.uint64)
        left = f[i].copy()
        step_max = np.maximum(1, DIGITS - dd[i])
        while (left > 0).any():
            st = np.minimum(left, step_max)
            p = POW10[st].astype(np.uint64)
            rr = r * p
            qq = qq * p + rr // du
            r = rr % du
            left -= st
        twice = 2 * r
        qi = qq.astype(np.int64)
        q[i] = qi
        up[i] = (twice > du) | ((twice == du) & (qi % 2 == 1))
        exact[i] = r == 0
    negf = live & (f < 0)
    if negf.any():  # the quotient has more integer digits than are kept: drop some
        i = np.flatnonzero(negf)
        p = POW10[-f[i]]
        qi, ri = np.divmod(q0[i], p)
        twice = 2 * ri
        q[i] = qi
        up[i] = (twice > p) | ((twice == p) & ((r0[i] > 0) | (qi % 2 == 1)))
        exact[i] = (ri == 0) & (r0[i] == 0)
    q, t, over2 = _carry(q + up, t)
    over |= over2 & live
    ideal = np.clip(sa - sb, 0, DIGITS)
    c, s = reduce(q, t, np.where(exact & ~up, ideal, t))
    bad = over | zero
    c = np.where(bad, 0, np.where(neg, -c, c))
    s = np.where(bad | (num == 0), np.where(num == 0, ideal, 0), s)
    return c, s, over, zero


def reduce(c: I64, s: I64, floor: I64 | int = 0) -> tuple[I64, I64]:
    """Strip trailing zero decimals, keeping at least ``floor`` decimals: the same values."""
    c, s = c.copy(), s.copy()
    lim = np.broadcast_to(np.asarray(floor, dtype=np.int64), s.shape)
    for k in (16, 8, 4, 2, 1):
        can = (s - k >= lim) & (c % POW10[k] == 0)
        if can.any():
            c = np.where(can, c // POW10[k], c)
            s = np.where(can, s - k, s)
    return c, s


def round_to(c: I64, s: I64, places: int) -> tuple[I64, I64]:
    """Round half-even to ``places`` decimals (0..18); fewer decimals are padded with zeros
    when that fits in 18 digits."""
    j = s - places
    drop = j > 0
    p = _p10(np.maximum(j, 0))
    mag = np.abs(c)
    q, r = np.divmod(mag, p)
    twice = 2 * r
    q = q + ((twice > p) | ((twice == p) & (q % 2 == 1)))
    q = np.where(j > DIGITS, 0, q)  # below 10**-18 of a unit: rounds to zero
    k = np.maximum(-j, 0)
    pad = ~drop & (mag < POW10[DIGITS - np.minimum(k, DIGITS)])
    out = np.where(drop, q, np.where(pad, mag * _p10(k), mag))
    scale = np.where(drop | pad, places, s)
    return np.where(c < 0, -out, out), scale


def compare(a: I64, sa: I64, b: I64, sb: I64) -> npt.NDArray[np.int8]:
    """Sign of a - b per row (-1, 0, 1), exactly."""
    s = np.maximum(sa, sb)
    sign: npt.NDArray[np.int8] = np.sign(_aligned(a, s - sa) - _aligned(b, s - sb)).astype(np.int8)
    return sign


def _aligned(c: I64, k: I64) -> I64:
    """c * 10**k, or +-10**18 where that is larger in size (only its sign then matters)."""
    big = np.abs(c) >= POW10[DIGITS - k]
    return np.where(big, np.sign(c) * LIMIT, np.where(big, 0, c) * POW10[k])


def to_units(c: I64, s: I64, exponent: I64) -> tuple[I64, Mask, Mask]:
    """Whole multiples of 10**-exponent (e.g. minor units of money): (units, too precise,
    too large). Never rounds."""
    k = exponent - s
    up = k >= 0
    kk = np.abs(k)
    fits = np.abs(c) < POW10[DIGITS - np.minimum(kk, DIGITS)]
    scaled = np.where(up & fits, c, 0) * _p10(kk)
    q, r = np.divmod(np.abs(c), _p10(kk))
    down = np.where(c < 0, -q, q)
    too_precise = ~up & (r != 0)
    too_large = up & ~fits
    units = np.where(up, scaled, down)
    return np.where(too_precise | too_large, 0, units), too_precise, too_large


def to_u128(c: I64, shift: I64) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Two's complement 128-bit (low, high) words of c * 10**shift (shift 0..18)."""
    hi, lo = wide_mul(np.abs(c), _p10(shift))
    h = hi.astype(np.uint64)
    c0, c1 = np.uint64(LIMIT & 0xFFFFFFFF), np.uint64(LIMIT >> 32)
    m32 = np.uint64(0xFFFFFFFF)
    h0, h1 = h & m32, h >> np.uint64(32)
    low = h0 * c0
    mid = h1 * c0 + h0 * c1
    add_lo = (mid & m32) << np.uint64(32)
    new = low + add_lo
    high = h1 * c1 + (mid >> np.uint64(32)) + (new < low).astype(np.uint64)
    low = new
    new = low + lo.astype(np.uint64)
    high = high + (new < low).astype(np.uint64)
    low = new
    neg = c < 0
    nlow = ~low + np.uint64(1)
    nhigh = ~high + (nlow == 0).astype(np.uint64)
    return np.where(neg, nlow, low), np.where(neg, nhigh, high)
