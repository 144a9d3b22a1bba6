// A live room's extras: recharging the wallet through the development payment flow, and the
// week-star boards of the room's channel.
import { useEffect } from 'react';
import { Link } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorMessage, Loading } from '../components/common';
import { graphql } from '../gql';

const CreateRechargeOrder = graphql(`
  mutation CreateRechargeOrder($amount: Int!) {
    createRechargeOrder(amount: $amount, channel: ALIPAY) {
      id
      amount
      status
    }
  }
`);

const RechargeOrderQuery = graphql(`
  query RechargeOrder($id: ID!) {
    rechargeOrder(id: $id) {
      id
      amount
      status
      paidAt
    }
  }
`);

const WeekStarBoards = graphql(`
  query WeekStarBoards($channelId: ID!) {
    weekStarBoards(channelId: $channelId, client: WEB, first: 10) {
      giftId
      week {
        year
        week
      }
      entries {
        rank
        giftCount
        streamer {
          id
          displayName
        }
      }
    }
  }
`);

const RECHARGE_AMOUNTS = [1_000, 10_000];
/** How often a pending order is read again: the provider's callback credits it out of band. */
const ORDER_POLL_MS = 1_000;

/**
 * Creates a recharge order and follows it until it is paid. In development nothing pays it
 * but the provider's signed callback, which `vidgraph pay` sends: the page says so.
 */
export function Recharge({ onPaid }: { onPaid: () => void }) {
  const [created, create] = useMutation(CreateRechargeOrder);
  const orderId = created.data?.createRechargeOrder.id;
  const [order, refetch] = useQuery({ query: RechargeOrderQuery, variables: { id: orderId ?? '' }, pause: !orderId });
  const status = order.data?.rechargeOrder.status ?? created.data?.createRechargeOrder.status;
  useEffect(() => {
    if (!orderId || status !== 'PENDING') return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), ORDER_POLL_MS);
    return () => clearInterval(timer);
  }, [orderId, status, refetch]);
  useEffect(() => {
    if (status === 'PAID') onPaid();
  }, [status, onPaid]);
  return (
    <div className="recharge">
      {RECHARGE_AMOUNTS.map((amount) => (
        <button type="button" key={amount} disabled={created.fetching || status === 'PENDING'} onClick={() => void create({ amount })}>
          Recharge {amount}
        </button>
      ))}
      <ErrorMessage error={created.error ?? order.error} />
      {orderId ? (
        <p data-testid="recharge-order" data-order-id={orderId} data-status={status}>
          Order <code>{orderId}</code> of {created.data?.createRechargeOrder.amount}: <strong>{status === 'PAID' ? 'paid, credited' : 'waiting for payment'}</strong>
        </p>
      ) : null}
      {orderId && status === 'PENDING' ? (
        <p className="muted">
          In development the payment provider is the CLI: <code>vidgraph pay {orderId}</code> sends its signed callback.
        </p>
      ) : null}
    </div>
  );
}

export function WeekStar({ channelId }: { channelId: string }) {
  const [boards] = useQuery({ query: WeekStarBoards, variables: { channelId } });
  return (
    <section className="week-star" data-testid="week-star">
      <h2>Week stars</h2>
      <ErrorMessage error={boards.error} />
      {!boards.data && !boards.error ? <Loading what="week-star boards" /> : null}
      {boards.data && boards.data.weekStarBoards.length === 0 ? <Empty>No week-star gifts in this channel this week.</Empty> : null}
      {boards.data?.weekStarBoards.map((board) => (
        <div key={board.giftId}>
          <h3>
            {board.giftId} <span className="muted">· week {board.week.week} of {board.week.year}</span>
          </h3>
          {board.entries.length === 0 ? <Empty>Nobody has received one yet.</Empty> : null}
          <ol>
            {board.entries.map((entry) => (
              <li key={entry.streamer.id}>
                <Link to={`/user/${entry.streamer.id}`}>{entry.streamer.displayName}</Link> <span className="muted">· {entry.giftCount}</span>
              </li>
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}
