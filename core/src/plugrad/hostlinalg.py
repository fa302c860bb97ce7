"""Matrix decompositions in plain Python, on the host: the default of the optional
linalg kernels of :class:`plugrad.backend.Backend` (a device without its own, such as
the pure-Python example device, computes them here; the cpu device overrides them with
LAPACK through NumPy).

A matrix is a list of rows of Python floats, computed in double precision. The
algorithms are the textbook ones LAPACK also uses, with its conventions where a
result is not unique: LU with partial pivoting (``getrf``: the first zero pivot is
reported, the factorization goes on), Cholesky of the lower triangle (``potrf``),
Householder QR with ``larfg``'s reflectors (``geqrf``/``orgqr``: the same R signs as
LAPACK), the cyclic Jacobi eigenvalue algorithm for symmetric matrices (ascending
eigenvalues, from the lower triangle as ``syevd`` with ``UPLO='L'``), and one-sided
Jacobi (Hestenes) for the SVD (descending singular values).
"""

from __future__ import annotations

import math

__all__ = ["lu", "solve", "slogdet", "cholesky", "qr", "eigh", "svd"]

_EPS = 2.220446049250313e-16


def _copy(a):
    return [list(row) for row in a]


def _identity(n, m=None):
    m = n if m is None else m
    return [[1.0 if i == j else 0.0 for j in range(m)] for i in range(n)]


def _transpose(a, rows=None, cols=None):
    rows = len(a) if rows is None else rows
    cols = (len(a[0]) if a else 0) if cols is None else cols
    return [[a[i][j] for i in range(rows)] for j in range(cols)]


def lu(a):
    """``(lu, perm, info)`` of a square matrix: ``P A = L U`` with unit-diagonal L below
    and U on and above the diagonal of ``lu``; ``perm[i]`` the row of A at row i; ``info``
    the 1-based index of the first zero pivot (0 when there is none)."""
    n = len(a)
    m = _copy(a)
    perm = list(range(n))
    info = 0
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(m[i][k]))
        if p != k:
            m[k], m[p] = m[p], m[k]
            perm[k], perm[p] = perm[p], perm[k]
        pivot = m[k][k]
        if pivot == 0.0 or pivot != pivot:
            if not info and pivot == 0.0:
                info = k + 1
            continue
        row_k = m[k]
        for i in range(k + 1, n):
            row = m[i]
            f = row[k] / pivot
            row[k] = f
            if f:
                for j in range(k + 1, n):
                    row[j] -= f * row_k[j]
    return m, perm, info


def solve(a, b):
    """``(x, info)`` with ``A x = b`` (``b`` a list of rows, n x k); x is None when A
    is singular (``info`` as :func:`lu`'s)."""
    factors, perm, info = lu(a)
    if info:
        return None, info
    n, k = len(a), len(b[0]) if b else 0
    x = [list(b[perm[i]]) for i in range(n)]
    for i in range(n):                       # L y = P b
        row = factors[i]
        for j in range(i):
            f = row[j]
            if f:
                for c in range(k):
                    x[i][c] -= f * x[j][c]
    for i in range(n - 1, -1, -1):           # U x = y
        row = factors[i]
        for j in range(i + 1, n):
            f = row[j]
            if f:
                for c in range(k):
                    x[i][c] -= f * x[j][c]
        for c in range(k):
            x[i][c] /= row[i]
    return x, 0


def slogdet(a):
    """``(sign, log|det|)``: sign 0 and -inf for a singular matrix."""
    n = len(a)
    factors, perm, info = lu(a)
    if info:
        return 0.0, -math.inf
    sign, logabs = 1.0, 0.0
    seen = [False] * n
    for i in range(n):                        # the permutation's parity, by its cycles
        if not seen[i]:
            j, length = i, 0
            while not seen[j]:
                seen[j] = True
                j = perm[j]
                length += 1
            if length % 2 == 0:
                sign = -sign
    for i in range(n):
        d = factors[i][i]
        if d != d:
            return math.nan, math.nan
        if d < 0:
            sign = -sign
        logabs += math.log(abs(d))
    return sign, logabs


def cholesky(a):
    """``(L, info)``: the lower factor of ``A = L L^T``, read from A's lower triangle;
    ``info`` the order of the first leading minor that is not positive-definite (then
    L is None)."""
    n = len(a)
    low = [[0.0] * n for _ in range(n)]
    for j in range(n):
        row_j = low[j]
        s = a[j][j] - sum(v * v for v in row_j[:j])
        if not s > 0.0:
            return None, j + 1
        d = math.sqrt(s)
        row_j[j] = d
        for i in range(j + 1, n):
            row_i = low[i]
            row_i[j] = (a[i][j] - sum(row_i[k] * row_j[k] for k in range(j))) / d
    return low, 0


def qr(a, complete=False):
    """``(Q, R)`` of an m x n matrix by Householder reflections: Q m x k orthonormal and R
    k x n upper triangular, k = min(m, n) (m with ``complete``)."""
    m = len(a)
    n = len(a[0]) if m else 0
    r = _copy(a)
    reflectors = []
    for k in range(min(m, n)):
        alpha = r[k][k]
        xnorm = math.sqrt(sum(r[i][k] ** 2 for i in range(k + 1, m)))
        if xnorm == 0.0:
            reflectors.append((0.0, []))          # H = I (larfg with nothing below the diagonal)
            continue
        beta = -math.copysign(math.hypot(alpha, xnorm), alpha)
        tau = (beta - alpha) / beta
        scale = 1.0 / (alpha - beta)
        v = [1.0] + [r[i][k] * scale for i in range(k + 1, m)]
        r[k][k] = beta
        for i in range(k + 1, m):
            r[i][k] = 0.0
        for j in range(k + 1, n):                # the rest of R: H r_j = r_j - tau v (v . r_j)
            w = tau * sum(v[i - k] * r[i][j] for i in range(k, m))
            if w:
                for i in range(k, m):
                    r[i][j] -= w * v[i - k]
        reflectors.append((tau, v))
    cols = m if complete else min(m, n)
    q = _identity(m, cols)
    for k in range(len(reflectors) - 1, -1, -1):  # Q = H_0 H_1 ... applied to the first columns of I
        tau, v = reflectors[k]
        if not tau:
            continue
        for j in range(cols):
            w = tau * sum(v[i - k] * q[i][j] for i in range(k, m))
            if w:
                for i in range(k, m):
                    q[i][j] -= w * v[i - k]
    return q, [row[:] for row in r[:cols]] if cols <= m else r


def eigh(a):
    """``(w, V)``: the ascending eigenvalues and the orthonormal eigenvectors (columns of
    V) of the symmetric matrix whose lower triangle is A's."""
    n = len(a)
    s = [[a[max(i, j)][min(i, j)] for j in range(n)] for i in range(n)]
    v = _identity(n)
    scale = sum(x * x for row in s for x in row)
    for _ in range(100):
        off = sum(s[p][q] ** 2 for p in range(n) for q in range(p + 1, n))
        if off <= (_EPS * _EPS) * scale * 1e-4 or off == 0.0:
            break
        for p in range(n):
            for q in range(p + 1, n):
                apq = s[p][q]
                if apq == 0.0:
                    continue
                theta = (s[q][q] - s[p][p]) / (2.0 * apq)
                t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                sn = t * c
                for k in range(n):               # columns p, q
                    skp, skq = s[k][p], s[k][q]
                    s[k][p], s[k][q] = c * skp - sn * skq, sn * skp + c * skq
                for k in range(n):               # rows p, q
                    spk, sqk = s[p][k], s[q][k]
                    s[p][k], s[q][k] = c * spk - sn * sqk, sn * spk + c * sqk
                for k in range(n):
                    vkp, vkq = v[k][p], v[k][q]
                    v[k][p], v[k][q] = c * vkp - sn * vkq, sn * vkp + c * vkq
    order = sorted(range(n), key=lambda i: s[i][i])
    return [s[i][i] for i in order], [[v[k][i] for i in order] for k in range(n)]


def _orthonormal_completion(columns, m):
    """``columns`` (unit vectors of length m, orthogonal; None for a missing one) with the
    missing ones replaced, and more appended up to m, by Gram-Schmidt on the unit vectors
    e_0, e_1, ..., so that all of them form an orthonormal set."""
    have = [c for c in columns if c is not None]
    candidates = iter(range(m))

    def next_vector():
        for e in candidates:
            v = [1.0 if i == e else 0.0 for i in range(m)]
            for _ in range(2):               # twice: orthogonal to working precision
                for c in have:
                    d = sum(x * y for x, y in zip(v, c))
                    v = [x - d * y for x, y in zip(v, c)]
            norm = math.sqrt(sum(x * x for x in v))
            if norm > 1e-8:
                v = [x / norm for x in v]
                have.append(v)
                return v
        raise ArithmeticError("no vector left to complete the orthonormal basis")
    return [c if c is not None else next_vector() for c in columns], next_vector


def svd(a, full_matrices=False):
    """``(U, S, Vh)`` of an m x n matrix: S descending, U m x k and Vh k x n with
    k = min(m, n) (U m x m and Vh n x n with ``full_matrices``)."""
    m = len(a)
    n = len(a[0]) if m else 0
    if m < n:
        u, s, vh = svd(_transpose(a, m, n), full_matrices)
        return _transpose(vh), s, _transpose(u)
    cols = [[a[i][j] for i in range(m)] for j in range(n)]   # A's columns, rotated towards A V
    vcols = [[1.0 if i == j else 0.0 for i in range(n)] for j in range(n)]
    for _ in range(100):
        rotated = False
        for p in range(n):
            for q in range(p + 1, n):
                cp, cq = cols[p], cols[q]
                alpha = sum(x * x for x in cp)
                beta = sum(x * x for x in cq)
                gamma = sum(x * y for x, y in zip(cp, cq))
                if gamma == 0.0 or abs(gamma) <= _EPS * math.sqrt(alpha * beta):
                    continue
                rotated = True
                zeta = (beta - alpha) / (2.0 * gamma)
                t = math.copysign(1.0, zeta) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
                c = 1.0 / math.sqrt(1.0 + t * t)
                sn = c * t
                cols[p] = [c * x - sn * y for x, y in zip(cp, cq)]
                cols[q] = [sn * x + c * y for x, y in zip(cp, cq)]
                vp, vq = vcols[p], vcols[q]
                vcols[p] = [c * x - sn * y for x, y in zip(vp, vq)]
                vcols[q] = [sn * x + c * y for x, y in zip(vp, vq)]
        if not rotated:
            break
    sigma = [math.sqrt(sum(x * x for x in c)) for c in cols]
    order = sorted(range(n), key=lambda j: -sigma[j])
    s = [sigma[j] for j in order]
    # a column of A V whose norm is at rounding level carries no direction: U's column for it
    # comes from the completion, orthogonal to the others
    tiny = (s[0] if s else 0.0) * max(m, n) * _EPS * 4
    ucols = [[x / sigma[j] for x in cols[j]] if sigma[j] > tiny else None for j in order]
    ucols, more = _orthonormal_completion(ucols, m)
    if full_matrices:
        ucols += [more() for _ in range(m - n)]
    u = [[c[i] for c in ucols] for i in range(m)]
    vh = [vcols[j] for j in order]
    return u, s, vh
