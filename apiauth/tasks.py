from celery import shared_task
from django.conf import settings


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self, webhook_id: int, event: str, payload: dict, delivery_id: str):
    """Deliver one event to one webhook; retry with exponential backoff when it fails."""
    from apiauth.models import Webhook
    from apiauth.webhooks import retry_delay, webhook_deliver

    webhook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if webhook is None:
        return None
    delivery = webhook_deliver(
        webhook=webhook,
        event=event,
        payload=payload,
        delivery_id=delivery_id,
        attempt=self.request.retries + 1,
    )
    max_retries = getattr(settings, "TOLLGATE_WEBHOOK_MAX_RETRIES", 5)
    if delivery.succeeded or delivery.refused or self.request.retries >= max_retries:
        return delivery.pk
    if self.request.is_eager:
        # No broker (REDIS_URL unset): Celery's eager retry would raise out of the
        # caller, so the next attempt runs here at once, without the backoff wait.
        return webhook_deliver_task.apply(
            args=[webhook_id, event, payload, delivery_id],
            retries=self.request.retries + 1,
            throw=False,
        ).result
    raise self.retry(countdown=retry_delay(self.request.retries), max_retries=max_retries)


@shared_task
def idempotency_keys_purge_task() -> int:
    """Forget idempotency keys older than a day."""
    from apiauth.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
