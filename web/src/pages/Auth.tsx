import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useMutation } from 'urql';
import { LoginMutation, RegisterMutation, toTokens } from '../api/auth';
import { ErrorMessage } from '../components/common';
import { useApp } from '../session-context';

/** The server's rule (subgraphs/content/src/domain/password.rs), shown before the first try. */
export const PASSWORD_RULE = 'A password has 8 to 128 characters with at least one letter and one digit.';

export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < 8 || length > 128 || !/\p{L}/u.test(password) || !/[0-9]/.test(password)) return PASSWORD_RULE;
  return null;
}

export function SignIn() {
  const { session } = useApp();
  const navigate = useNavigate();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [result, run] = useMutation(LoginMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const reply = await run({ input: { login, password } });
    if (reply.data) {
      session.signIn(toTokens(reply.data.login));
      navigate('/');
    }
  };
  return (
    <section className="form-page">
      <h1>Sign in</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Username or e-mail
          <input name="login" autoComplete="username" value={login} onChange={(e) => setLogin(e.target.value)} required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <ErrorMessage error={result.error} />
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here? <Link to="/sign-up">Create an account</Link>.
      </p>
    </section>
  );
}

export function SignUp() {
  const { session } = useApp();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [result, run] = useMutation(RegisterMutation);
  const problem = passwordProblem(password);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (problem) return;
    const reply = await run({ input: { email, username, password } });
    if (reply.data) {
      session.signIn(toTokens(reply.data.register));
      navigate('/');
    }
  };
  return (
    <section className="form-page">
      <h1>Create an account</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label>
          E-mail
          <input name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            onBlur={() => setTouched(true)}
            aria-describedby="password-rule"
            required
          />
        </label>
        <p id="password-rule" className={touched && problem ? 'rule bad' : 'rule'}>
          {PASSWORD_RULE}
        </p>
        <ErrorMessage error={result.error} />
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account? <Link to="/sign-in">Sign in</Link>.
      </p>
    </section>
  );
}
