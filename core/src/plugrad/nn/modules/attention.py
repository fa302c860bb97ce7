"""``MultiheadAttention``: ``F.multi_head_attention_forward`` with its parameters, named
and initialised as in PyTorch so state dicts move between the two libraries."""

from __future__ import annotations

from ...autograd.grad_mode import is_grad_enabled
from ...backends.mha import get_fastpath_enabled
from ...creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` (PyTorch names ``MultiheadAttention.out_proj`` with this class, which
    its quantisation passes skip; here it is an ordinary ``Linear``)."""


class MultiheadAttention(Module):
    """Attention of queries over keys and values with ``num_heads`` heads of
    ``embed_dim // num_heads`` features each.

    Parameters as in PyTorch: ``in_proj_weight`` (3E, E) packs the query, key and value
    projections (``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` instead when
    ``kdim`` or ``vdim`` differ from ``embed_dim``), ``in_proj_bias`` (3E), ``out_proj``
    (a Linear), and ``bias_k``/``bias_v`` (1, 1, E) with ``add_bias_kv``. The
    projections start from xavier_uniform, the biases from zero. Inputs are
    (L, N, E), or (N, L, E) with ``batch_first``, or (L, E) unbatched."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        """``(output, weights)``: see ``F.multi_head_attention_forward``. Boolean masks
        are True where attention is NOT allowed; float masks are added to the scores."""
        is_batched = query.dim() == 3
        fused = self._fused_inference(query, key, value, attn_mask, key_padding_mask)
        key_padding_mask = F._canonical_mask(key_padding_mask, "key_padding_mask", F._none_or_dtype(attn_mask),
                                             "attn_mask", query.dtype)
        attn_mask = F._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and is_batched:   # keep self-attention's identities: one projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = {} if self._qkv_same_embed_dim else {
            "use_separate_proj_weight": True, "q_proj_weight": self.q_proj_weight,
            "k_proj_weight": self.k_proj_weight, "v_proj_weight": self.v_proj_weight}
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights or fused,
            attn_mask=attn_mask, average_attn_weights=average_attn_weights or not need_weights, is_causal=is_causal,
            **separate)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)
        return out, (weights if need_weights else None)

    def _fused_inference(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether PyTorch would run its fused inference kernel here (self-attention in
        eval mode, no gradient wanted, batch_first, boolean masks...). Its values are the
        ordinary ones, except that a query which may attend no key gets NaN (a plain
        softmax) where the ``need_weights=False`` path gives zeros; so when it applies,
        the weights path (which has that softmax) computes the output."""
        if (not get_fastpath_enabled() or query.dim() != 3 or query is not key or key is not value or self.training
                or not self.batch_first
                or self.num_heads % 2 or self.bias_k is not None or self.bias_v is not None or self.add_zero_attn
                or not self._qkv_same_embed_dim or self.in_proj_bias is None
                or query.dtype != self.in_proj_weight.dtype or query.dtype != self.in_proj_bias.dtype):
            return False
        if any(m is not None and m.dtype.is_floating_point for m in (attn_mask, key_padding_mask)):
            return False
        tensors = (query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)
        return not (is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors))
