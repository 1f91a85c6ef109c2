//! Asks DNS servers for zones' SOA serials, the way a person would with
//! `dig @ns2 example.org SOA +norecurse`: one UDP question each, all at once,
//! under one deadline, so a dead secondary costs the dashboard two seconds
//! at most and never hangs it.
//!
//! The messages are built and read with hickory's wire format (already in
//! the server for the mail check), not by hand: name compression and the
//! record layout are its business. The judgement of an answer ([`read_answer`])
//! is plain code over a datagram, tested without a network.
//!
//! The dashboard's answers are kept for [`KEEP_ANSWERS`] ([`SHARED`]): it
//! refetches on every host event, and a VM starting should not have every
//! secondary asked again (nor wait two seconds more for a dead one) each
//! time. Tests make their own [`Serials`] that keep nothing.

use hickory_resolver::proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// How long one try waits for its answer.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long all the questions of one dashboard view may take together.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// How long an answer (or a silence) is reused.
pub const KEEP_ANSWERS: Duration = Duration::from_secs(15);

/// A zone on a server: the server's address and the zone's absolute name.
pub type Target = (SocketAddr, String);
/// A serial, or why there is none, in words for the page.
pub type Answer = Result<u32, String>;

/// The question: `zone IN SOA`, without recursion (secondaries are
/// authoritative and answer for their own zones only).
pub fn soa_query(id: u16, zone: &Name) -> Result<Vec<u8>, String> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(zone.clone(), RecordType::SOA));
    message
        .to_vec()
        .map_err(|e| format!("cannot write the question for {zone}: {e}"))
}

/// What a datagram says about `zone`. `None` when it is not the answer to
/// question `id` (another id, not a response, unreadable): keep waiting.
pub fn read_answer(packet: &[u8], id: u16, zone: &Name) -> Option<Answer> {
    let message = Message::from_vec(packet).ok()?;
    let meta = &message.metadata;
    if meta.id != id || meta.message_type != MessageType::Response {
        return None;
    }
    match meta.response_code {
        ResponseCode::NoError => {}
        ResponseCode::Refused | ResponseCode::NotAuth => {
            return Some(Err("refuses the query: the zone is not served there".into()))
        }
        ResponseCode::NXDomain => return Some(Err("does not know the zone".into())),
        ResponseCode::ServFail => {
            return Some(Err(
                "fails to serve the zone (SERVFAIL): it may never have transferred, or expired"
                    .into(),
            ))
        }
        other => return Some(Err(format!("answers \u{201c}{other}\u{201d}"))),
    }
    if !meta.authoritative {
        return Some(Err(
            "answers without authority: the zone is not served there".into(),
        ));
    }
    let serial = message.answers.iter().find_map(|r| match &r.data {
        RData::SOA(soa) if &r.name == zone => Some(soa.serial),
        _ => None,
    });
    Some(serial.ok_or_else(|| "answers without the zone's SOA record".to_owned()))
}

/// Asks one server for one zone's serial: a try, and a second one when
/// the first goes unanswered (a lost datagram is not a dead server).
pub async fn query_serial(server: SocketAddr, zone: &str) -> Answer {
    let name = Name::from_ascii(zone).map_err(|e| format!("{zone} is not a zone name: {e}"))?;
    let id = u16::from_be_bytes(crate::secret::random_bytes::<2>());
    let packet = soa_query(id, &name)?;
    let local: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(local).await.map_err(io_words)?;
    // Connected: only the server's datagrams arrive, and an ICMP "port
    // unreachable" ends the wait at once instead of after the timeout.
    socket.connect(server).await.map_err(io_words)?;
    for _ in 0..2 {
        socket.send(&packet).await.map_err(io_words)?;
        if let Ok(answer) = tokio::time::timeout(TRY_TIMEOUT, receive(&socket, id, &name)).await {
            return answer;
        }
    }
    Err(no_answer(TRY_TIMEOUT * 2))
}

async fn receive(socket: &UdpSocket, id: u16, zone: &Name) -> Answer {
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.recv(&mut buf).await.map_err(io_words)?;
        if let Some(answer) = buf.get(..n).and_then(|p| read_answer(p, id, zone)) {
            return answer;
        }
    }
}

fn io_words(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "nothing answers DNS there (port closed)".into(),
        _ => format!("cannot be asked: {e}"),
    }
}

fn no_answer(after: Duration) -> String {
    format!("no answer within {} s", after.as_secs())
}

/// Asks for serials and keeps the answers for a while.
pub struct Serials {
    keep: Duration,
    kept: Mutex<BTreeMap<Target, (Instant, Answer)>>,
}

/// The answers the dashboard shares between views, kept [`KEEP_ANSWERS`].
pub static SHARED: Serials = Serials::new(KEEP_ANSWERS);

impl Serials {
    /// Answers younger than `keep` are reused (`Duration::ZERO`: always ask).
    pub const fn new(keep: Duration) -> Self {
        Self {
            keep,
            kept: Mutex::new(BTreeMap::new()),
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, BTreeMap<Target, (Instant, Answer)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every target's serial, in the targets' order: kept answers are
    /// reused, the other questions go out together, and whatever has not
    /// answered by [`DEADLINE`] counts as silent.
    pub async fn ask(&self, targets: &[Target]) -> Vec<Answer> {
        let now = Instant::now();
        let mut out: Vec<Option<Answer>> = {
            let mut kept = self.kept();
            kept.retain(|_, (at, _)| now.duration_since(*at) < self.keep);
            targets
                .iter()
                .map(|t| kept.get(t).map(|(_, a)| a.clone()))
                .collect()
        };
        let mut questions = tokio::task::JoinSet::new();
        for (i, (server, zone)) in targets.iter().enumerate() {
            if out.get(i).is_some_and(Option::is_none) {
                let (server, zone) = (*server, zone.clone());
                questions.spawn(async move { (i, query_serial(server, &zone).await) });
            }
        }
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(until, questions.join_next()).await {
                Ok(Some(Ok((i, answer)))) => {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(answer);
                    }
                }
                // A question that panicked counts as silent, like one cut off.
                Ok(Some(Err(_))) => {}
                Ok(None) => break,
                Err(_) => {
                    questions.abort_all();
                    break;
                }
            }
        }
        let answers: Vec<Answer> = out
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(no_answer(DEADLINE))))
            .collect();
        if !self.keep.is_zero() {
            let mut kept = self.kept();
            for (target, answer) in targets.iter().zip(&answers) {
                kept.entry(target.clone())
                    .or_insert_with(|| (now, answer.clone()));
            }
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::{rdata::SOA, Record};

    fn zone() -> Name {
        Name::from_ascii("example.org.").unwrap()
    }

    /// The answer a secondary serving `owner` with `serial` sends.
    fn response(id: u16, owner: &str, serial: u32, rcode: ResponseCode, aa: bool) -> Vec<u8> {
        let owner = Name::from_ascii(owner).unwrap();
        let mut m = Message::response(id, OpCode::Query);
        m.metadata.authoritative = aa;
        m.metadata.response_code = rcode;
        m.add_query(Query::query(owner.clone(), RecordType::SOA));
        if rcode == ResponseCode::NoError {
            let soa = SOA::new(
                Name::from_ascii("ns1.example.org.").unwrap(),
                Name::from_ascii("hostmaster.example.org.").unwrap(),
                serial,
                7200,
                3600,
                1_209_600,
                300,
            );
            m.add_answer(Record::from_rdata(owner, 3600, RData::SOA(soa)));
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn the_question_is_one_soa_query_without_recursion() {
        let bytes = soa_query(0x1234, &zone()).unwrap();
        // Header: id, flags (a query, RD clear), one question.
        assert_eq!(&bytes[..4], &[0x12, 0x34, 0x00, 0x00]);
        assert_eq!(&bytes[4..6], &[0, 1]);
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(m.metadata.message_type, MessageType::Query);
        assert!(!m.metadata.recursion_desired);
        assert_eq!(m.queries.len(), 1);
        assert_eq!(m.queries[0].query_type(), RecordType::SOA);
        assert_eq!(m.queries[0].name(), &zone());
        // QTYPE SOA (6), QCLASS IN (1) close the message.
        assert_eq!(&bytes[bytes.len() - 4..], &[0, 6, 0, 1]);
    }

    #[test]
    fn an_authoritative_answer_gives_the_serial() {
        let packet = response(7, "example.org.", 2026120402, ResponseCode::NoError, true);
        assert_eq!(read_answer(&packet, 7, &zone()), Some(Ok(2026120402)));
        // Names compare without regard to case, as DNS does.
        let packet = response(7, "Example.ORG.", 5, ResponseCode::NoError, true);
        assert_eq!(read_answer(&packet, 7, &zone()), Some(Ok(5)));
    }

    #[test]
    fn another_questions_answer_or_garbage_is_not_ours() {
        let packet = response(8, "example.org.", 1, ResponseCode::NoError, true);
        assert_eq!(read_answer(&packet, 7, &zone()), None);
        assert_eq!(read_answer(&[0xde, 0xad], 7, &zone()), None);
        // Our own question echoed back is not an answer.
        let question = soa_query(7, &zone()).unwrap();
        assert_eq!(read_answer(&question, 7, &zone()), None);
    }

    #[test]
    fn refusals_and_failures_say_why() {
        let refused = response(7, "example.org.", 0, ResponseCode::Refused, false);
        let e = read_answer(&refused, 7, &zone()).unwrap().unwrap_err();
        assert!(e.contains("not served there"), "{e}");
        let servfail = response(7, "example.org.", 0, ResponseCode::ServFail, false);
        let e = read_answer(&servfail, 7, &zone()).unwrap().unwrap_err();
        assert!(e.contains("SERVFAIL"), "{e}");
    }

    #[test]
    fn a_non_authoritative_or_foreign_soa_is_no_serial() {
        let cached = response(7, "example.org.", 9, ResponseCode::NoError, false);
        let e = read_answer(&cached, 7, &zone()).unwrap().unwrap_err();
        assert!(e.contains("without authority"), "{e}");
        // The SOA of the parent zone, not of ours.
        let parent = response(7, "org.", 9, ResponseCode::NoError, true);
        let e = read_answer(&parent, 7, &zone()).unwrap().unwrap_err();
        assert!(e.contains("without the zone's SOA"), "{e}");
    }

    /// A server on loopback that answers with `serial` (or never answers).
    async fn fake_secondary(serial: Option<u32>) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let Some(serial) = serial else { continue };
                let q = Message::from_vec(&buf[..n]).unwrap();
                let owner = q.queries[0].name().to_ascii();
                let reply = response(q.metadata.id, &owner, serial, ResponseCode::NoError, true);
                let _ = socket.send_to(&reply, from).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn serials_come_back_in_order_and_a_silent_server_waits_no_longer_than_the_deadline() {
        let answering = fake_secondary(Some(2026120402)).await;
        let silent = fake_secondary(None).await;
        let targets = vec![
            (silent, "example.org.".to_owned()),
            (answering, "example.org.".to_owned()),
            (answering, "example.net.".to_owned()),
        ];
        let serials = Serials::new(Duration::from_secs(60));
        let started = Instant::now();
        let answers = serials.ask(&targets).await;
        let took = started.elapsed();
        assert!(took < DEADLINE + Duration::from_millis(500), "{took:?}");
        assert!(
            took >= TRY_TIMEOUT,
            "the silent one was waited for: {took:?}"
        );
        assert!(
            answers[0].as_ref().is_err_and(|e| e.contains("no answer")),
            "{answers:?}"
        );
        assert_eq!(answers[1], Ok(2026120402));
        assert_eq!(answers[2], Ok(2026120402));

        // Asked again at once: the kept answers come back without waiting.
        let started = Instant::now();
        assert_eq!(serials.ask(&targets).await, answers);
        assert!(started.elapsed() < Duration::from_millis(200));
    }
}
