from __future__ import annotations

from django.db import models

from petitions.models.petitions import Petition


class Tally(models.Model):
    """A change to a petition's counts not yet folded into them: +1 for a confirmation, -1 for
    a confirmed signature taken off. Written in the same transaction as the signature's status;
    petitions.counting.fold() adds and deletes tallies together. Inserting a row per signature
    lets confirmations run side by side; updating one counter row each would queue them."""

    id = models.BigAutoField(primary_key=True)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2)
    hour = models.DateTimeField(null=True)  # none for a signature with no confirmation time
    delta = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.country} {self.hour}"


class CountryCount(models.Model):
    """Counted signatures from one country, kept by petitions.counting."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "country"], name="one_count_per_country")
        ]

    def __str__(self) -> str:
        return f"{self.count} from {self.country}"


class HourlyCount(models.Model):
    """Counted signatures confirmed in one hour (UTC), kept by petitions.counting."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hourly_counts")
    hour = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "hour"], name="one_count_per_hour")
        ]

    def __str__(self) -> str:
        return f"{self.count} at {self.hour:%Y-%m-%d %H}h"
