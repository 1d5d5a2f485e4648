"""Non-HTTP triggers and storage bindings, served as the Functions host serves them.

* :mod:`.queue` polls storage queues (``queueTrigger``), with back-off and a poison queue;
* :mod:`.blob` scans containers (``blobTrigger``, polling and ``source="EventGrid"``) and keeps
  receipts so each blob version is processed once;
* :mod:`.eventgrid` answers ``/runtime/webhooks/eventgrid`` (``eventGridTrigger``);
* :mod:`.timer` fires NCRONTAB schedules on devhost's clock (``timerTrigger``);
* :mod:`.bindings` builds the arguments (trigger value, blob input, durable client, outputs) and
  writes queue and blob outputs, resolving :mod:`.expressions`;
* :mod:`.runtime` starts and stops the listeners of one host.
"""
