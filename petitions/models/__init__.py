"""The petitions' data and the rules that keep it true, one module per subject."""

from petitions.models.counts import CountryCount, HourlyCount, Tally
from petitions.models.delivery import (
    Export,
    PaperBatch,
    Presentation,
    PrivateStorage,
    new_seal,
    private_storage,
)
from petitions.models.petitions import (
    Demand,
    Petition,
    PetitionQuerySet,
    SealedPetition,
    SealedWithThePetition,
    is_sealed,
    raised_goal,
)
from petitions.models.rules import SigningLimit, SigningRule
from petitions.models.signatures import (
    PLAIN_MAILBOX,
    Signature,
    SignatureQuerySet,
    SignaturesAreEvidence,
    petition_ids_where,
    validate_signer_email,
    with_idna_domain,
)

__all__ = [
    "PLAIN_MAILBOX",
    "CountryCount",
    "Demand",
    "Export",
    "HourlyCount",
    "PaperBatch",
    "Petition",
    "PetitionQuerySet",
    "Presentation",
    "PrivateStorage",
    "SealedPetition",
    "SealedWithThePetition",
    "Signature",
    "SignatureQuerySet",
    "SignaturesAreEvidence",
    "SigningLimit",
    "SigningRule",
    "Tally",
    "is_sealed",
    "new_seal",
    "petition_ids_where",
    "private_storage",
    "raised_goal",
    "validate_signer_email",
    "with_idna_domain",
]
