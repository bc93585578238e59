# The netwerkmodel plugins' claims header (base64url through libcrypto).
zv_add_fuzz(nm_claims LIBS zv_netwerkmodel)
