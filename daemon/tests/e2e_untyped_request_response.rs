//! End to end: untyped clients and servers (`Runtime::untyped_client`,
//! `Runtime::untyped_server`), whose request and response types are
//! `ServiceType` values (what a bridge reads from its configuration): an
//! untyped client asks a typed server and reads the typed responses as
//! bytes, a typed client asks an untyped server, for a sized type and for
//! slices; a loan of a byte length the declared type cannot have is refused
//! with `PayloadSize`, one beyond the longest slice with `SliceTooLong` in
//! the declared elements, and a declared type other than the service's with
//! a type mismatch.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn untyped_clients_and_servers_talk_to_typed_ones() {
    let domain = TestDomain::start();
    let baseline = domain.used_chunks();
    let mut child = spawn_child("roles::untyped_exchange", &[], &domain.envs());
    child.expect_success(WAIT);
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == baseline),
        "chunks were not all returned: {:?}",
        domain.mempools()
    );
    domain.stop();
}

mod roles {
    use std::time::Duration;

    use crate::e2e_support::service;
    use zerocp::error::{CreatePortReason, PortRequestError};
    use zerocp::{
        CreateExchangeError, LoanError, Runtime, Server, ServiceType, TypeInfo, UntypedClient,
        UntypedServer, ZeroCopySafe,
    };
    use zerocp_os_linux::testing::role::role_args;

    const WAIT: Option<Duration> = Some(Duration::from_secs(10));
    /// The longest word list, in `u16`s.
    const MAX_WORDS: u32 = 16;

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
    #[zerocp(type_name = "e2e::Pair")]
    struct Pair {
        a: u32,
        b: u32,
    }

    fn pair_bytes(pair: Pair) -> Vec<u8> {
        [pair.a.to_ne_bytes(), pair.b.to_ne_bytes()].concat()
    }

    /// Answers one request of the typed calc server: the sum, then twice it.
    fn serve_sum(server: &Server<Pair, u64>) {
        let request = server.receive().expect("receive").expect("a request");
        let sum = u64::from(request.a) + u64::from(request.b);
        request
            .loan_uninit()
            .expect("loan")
            .write(sum)
            .send()
            .expect("send");
        request
            .loan_uninit()
            .expect("loan")
            .write(2 * sum)
            .send_last()
            .expect("send last");
    }

    /// Answers one request of the untyped word server: every `u16` of the
    /// request widened to a `u32` and doubled, as one slice response.
    fn serve_words(server: &UntypedServer) {
        let request = server.receive().expect("receive").expect("a request");
        let answer: Vec<u8> = request
            .chunks_exact(2)
            .flat_map(|w| (2 * u32::from(u16::from_ne_bytes([w[0], w[1]]))).to_ne_bytes())
            .collect();
        request
            .loan_slice_uninit(answer.len())
            .expect("loan")
            .write_from_slice(&answer)
            .expect("length")
            .send_last()
            .expect("send last");
    }

    fn refused(created: Result<UntypedClient, CreateExchangeError>) {
        match created {
            Err(CreateExchangeError::Port(e)) => assert!(
                matches!(
                    e.reason,
                    CreatePortReason::Request(PortRequestError::TypeMismatch { .. })
                ),
                "refused otherwise: {e}"
            ),
            Err(e) => panic!("refused otherwise: {e}"),
            Ok(c) => panic!("a client of the wrong type was created: {c:?}"),
        }
    }

    /// An untyped client asks a typed server (sized types).
    fn untyped_client_typed_server(rt: &Runtime) {
        let svc = service("untyped-rr-calc");
        let server = rt.server::<Pair, u64>(&svc).create().expect("server");
        let pair = ServiceType::of::<Pair, ()>();
        let sum = ServiceType::of::<u64, ()>();
        refused(rt.untyped_client(&svc, pair, pair).create());
        refused(rt.untyped_client(&svc, sum, sum).create());
        let client = rt.untyped_client(&svc, pair, sum).create().expect("client");
        assert!(matches!(
            client.loan_slice_uninit(7),
            Err(LoanError::PayloadSize {
                bytes: 7,
                type_size: 8
            })
        ));
        let request = pair_bytes(Pair { a: 20, b: 22 });
        let pending = client
            .loan_slice_uninit(request.len())
            .expect("loan")
            .write_from_slice(&request)
            .expect("length")
            .send()
            .expect("send");
        serve_sum(&server);
        let first = pending.receive(WAIT).expect("receive").expect("a response");
        assert_eq!(&*first, 42u64.to_ne_bytes());
        drop(first);
        let second = pending.receive(WAIT).expect("receive").expect("a response");
        assert!(second.is_last());
        assert_eq!(&*second, 84u64.to_ne_bytes());
        drop(second);
        assert!(pending.receive(WAIT).expect("receive").is_none());
    }

    /// A typed client asks an untyped server (slices both ways), and an
    /// untyped client's slice loans count bytes against declared elements.
    fn typed_client_untyped_server(rt: &Runtime) {
        let svc = service("untyped-rr-words");
        let words = ServiceType::slice(TypeInfo::of::<u16>());
        let wide = ServiceType::slice(TypeInfo::of::<u32>());
        let server = rt
            .untyped_server(&svc, words, wide)
            .max_response_len(MAX_WORDS)
            .create()
            .expect("server");
        let client = rt
            .client::<[u16], [u32]>(&svc)
            .max_request_len(MAX_WORDS)
            .create()
            .expect("client");
        let pending = client
            .loan_slice_uninit(3)
            .expect("loan")
            .write_from_slice(&[1, 2, 300])
            .expect("length")
            .send()
            .expect("send");
        serve_words(&server);
        let answer = pending.receive(WAIT).expect("receive").expect("a response");
        assert_eq!(&*answer, &[2, 4, 600]);
        drop(answer);
        assert!(pending.receive(WAIT).expect("receive").is_none());

        let untyped = rt
            .untyped_client(&svc, words, wide)
            .max_request_len(MAX_WORDS)
            .create()
            .expect("untyped client");
        assert!(matches!(
            untyped.loan_slice_uninit(3),
            Err(LoanError::PayloadSize {
                bytes: 3,
                type_size: 2
            })
        ));
        assert!(matches!(
            untyped.loan_slice_uninit(2 * MAX_WORDS as usize + 2),
            Err(LoanError::SliceTooLong { len: 17, max: 16 })
        ));
        let empty = untyped
            .loan_slice_uninit(0)
            .expect("loan")
            .write_from_slice(&[])
            .expect("length")
            .send()
            .expect("send");
        serve_words(&server);
        let nothing = empty.receive(WAIT).expect("receive").expect("a response");
        assert!(nothing.is_empty());
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn untyped_exchange() {
        if role_args("roles::untyped_exchange").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-untyped-rr")
            .reconnect(false)
            .init()
            .expect("init");
        untyped_client_typed_server(&rt);
        typed_client_untyped_server(&rt);
    }
}
