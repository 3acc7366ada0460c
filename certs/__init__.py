"""Trust: certificate authority, S/MIME, DKIM, revocation."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA key class to recognise such keys; cryptography 51 deprecated DSA and warns at
# that import. Neither a clerk nor an operator can act on it, and a start-up error must stay one readable line, so
# this one library's deprecation warnings are kept off stderr. Every pyHanko import in the project goes through a
# module of this package, so the filter is in place before the first one.
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"pyhanko(_certvalidator)?(\.|$)")
