//! Live danmaku fan-out: a viewer that does not read keeps at most its queue's worth, loses
//! the rest, and is told how many on the next message it reads; the room is not slowed.

use crate::harness::{World, user};
use futures::StreamExt;
use vidgraph_live::domain::danmaku::DanmakuMode;

#[tokio::test]
async fn a_slow_viewer_loses_what_its_queue_cannot_hold_and_is_told_how_many() {
    let world = World::start().await;
    let (_, room) = world.live_streamer().await;
    let service = world.live.danmaku.clone();
    let mut slow = service.subscribe(room.id).await.expect("subscribe");
    assert_eq!(service.presence().local(room.id), 1, "a subscriber is a viewer");
    let capacity = world.deps.config.nats.realtime_queue;
    let total = capacity + 18;
    // Several senders: each has its own rate-limit budget (20 per 30 s).
    let senders: Vec<_> = (0..total.div_ceil(10)).map(|_| user()).collect();
    for n in 0..total {
        let text = format!("message {n}");
        service.send(senders[n / 10], room.id, text, "#FFFFFF".into(), DanmakuMode::Scroll).await.expect("sent");
    }
    let hub = world.deps.nats.realtime();
    world.eventually("the overflow to be dropped", async || hub.dropped_total() >= 18).await;

    let (first, lost) = slow.next().await.expect("a message");
    assert_eq!((first.text.as_str(), lost), ("message 0", 18), "the queue kept the oldest; the next read reports the loss");
    let mut kept = 1;
    while kept < capacity {
        let (_, lost) = slow.next().await.expect("queued message");
        assert_eq!(lost, 0);
        kept += 1;
    }
    service.send(user(), room.id, "after".into(), "#FFFFFF".into(), DanmakuMode::Top).await.expect("sent");
    let (after, lost) = slow.next().await.expect("the next message");
    assert_eq!((after.text.as_str(), lost), ("after", 0));
    drop(slow);
    assert_eq!(service.presence().local(room.id), 0, "leaving stops counting");
}
