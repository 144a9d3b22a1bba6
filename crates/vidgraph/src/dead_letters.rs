//! `vidgraph dead-letters list|redrive`: the platform's dead letters from the command line, for
//! operators (the same operations admins have in GraphQL as `<subgraph>DeadLetters`).

use platform::config::AppConfig;
use platform::consumer::dead_letters::{DeadLetters, MAX_PAGE, Redrive};
use platform::nats::Nats;

/// Every durable consumer of the platform: whose dead letters this command handles.
pub const CONSUMERS: [&str; 3] = [ranking::events::content::DURABLE, ranking::events::gifts::DURABLE, content::events::follows::DURABLE];

/// Prints dead letters (of `consumer`, or all), oldest first, one per line, after id `after`.
/// Follows pages until `first` are printed.
pub async fn list(config: &AppConfig, consumer: Option<&str>, first: usize, after: Option<u64>) -> anyhow::Result<()> {
    if let Some(consumer) = consumer
        && !CONSUMERS.contains(&consumer)
    {
        anyhow::bail!("unknown consumer {consumer:?}; the consumers are {}", CONSUMERS.join(", "));
    }
    let letters = DeadLetters::new(&Nats::connect(&config.nats).await?);
    let (mut printed, mut after) = (0, after);
    while printed < first {
        let (page, more) = letters.list(consumer, (first - printed).min(MAX_PAGE), after).await?;
        for letter in &page {
            println!(
                "{}\t{}\t{}\t{}#{}\tdeliveries={}\t{}\t{}",
                letter.id,
                letter.dead_at.to_rfc3339(),
                letter.consumer,
                letter.stream,
                letter.stream_sequence,
                letter.deliveries,
                letter.subject,
                letter.reason
            );
        }
        printed += page.len();
        after = page.last().map(|letter| letter.id).or(after);
        if !more || page.is_empty() {
            break;
        }
    }
    if printed == 0 {
        eprintln!("no dead letters");
    }
    Ok(())
}

/// Re-drives the dead letters `ids`: each is published to its original subject again and
/// removed. Fails (after trying every id) if one of them was not found.
pub async fn redrive(config: &AppConfig, ids: &[u64]) -> anyhow::Result<()> {
    let letters = DeadLetters::new(&Nats::connect(&config.nats).await?);
    let mut missing = Vec::new();
    for &id in ids {
        match letters.redrive(id, &CONSUMERS).await? {
            Redrive::Redriven { subject } => println!("{id}\tredriven to {subject}"),
            Redrive::NotFound => missing.push(id),
        }
    }
    if !missing.is_empty() {
        anyhow::bail!("no dead letter with id {}", missing.iter().map(u64::to_string).collect::<Vec<_>>().join(", "));
    }
    Ok(())
}
