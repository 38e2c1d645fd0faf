"""The staff's pages in the admin: each module registers the ModelAdmins of one subject."""

from petitions.admin import campaigns, delivery, petitions, rules, signatures

__all__ = ["campaigns", "delivery", "petitions", "rules", "signatures"]
