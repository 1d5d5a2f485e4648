"""The ``azure`` task hub store: Azure Storage tables, queues and blobs (Azurite locally).

Layout (close to DurableTask.AzureStorage, so Storage Explorer users recognise it):

* ``{Hub}Instances``: one row per instance (:mod:`.instances`);
* ``{Hub}History``: one row per history event plus a ``sentinel`` row per instance, the
  commit point of every episode (:mod:`.history`, :mod:`.checkpoint`);
* ``{Hub}Partitions``: partition leases and host heartbeats (:mod:`.leases`);
* ``{hub}-control-NN``: messages for instances, by FNV-1a partition; ``{hub}-workitems``:
  activity work items (:mod:`.queues`, :mod:`.envelopes`);
* ``{hub}-largemessages``: payloads over the service limits (:mod:`.payloads`).

Crash safety and the commit order are described in :mod:`.orchestrations`.
"""

from .hub import AzureStoreOptions
from .store import AzureStore

__all__ = ["AzureStore", "AzureStoreOptions"]
