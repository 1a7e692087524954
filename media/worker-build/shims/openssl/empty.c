int plenum_shim_placeholder_c = 0;
