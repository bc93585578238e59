# Retour parsers through the real runtime and format plugins.
zv_add_fuzz(retour)
if(TARGET fmt_iwlz AND TARGET fmt_ijw)
  add_dependencies(fuzz_retour fmt_iwlz fmt_ijw out_filedrop)
endif()
