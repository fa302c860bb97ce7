"""OpenCL C generated from plain string templates, one module per kernel family.

:func:`plugrad_opencl.kernels.library.program` assembles every kernel of one dtype
into one program source; nothing here touches OpenCL itself.
"""
