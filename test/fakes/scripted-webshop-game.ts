/**
 * A three-page scripted shop behind the fake WebShop server, with WebShop's text observation
 * layout (`[SEP]`-separated) and action rules: `search[keywords]` on the search page,
 * `click[value]` with a value among the page's clickables (case-insensitive); anything else is a
 * no-op. `click[buy now]` ends the episode with a reward in [0, 1].
 */
interface Product {
  asin: string;
  title: string;
  price: number;
}

const PRODUCTS: Product[] = [
  { asin: 'B0001', title: 'Red Cotton T-Shirt', price: 19.99 },
  { asin: 'B0002', title: 'Blue Ceramic Mug', price: 9.99 },
  { asin: 'B0003', title: 'Red Wool Scarf', price: 24.5 },
];

export const SCRIPTED_WEBSHOP_GOALS = [
  {
    instruction: 'i need a red cotton t-shirt, and price lower than 30.00 dollars',
    asin: 'B0001',
    maxPrice: 30,
  },
  {
    instruction: 'i want a blue ceramic mug, and price lower than 15.00 dollars',
    asin: 'B0002',
    maxPrice: 15,
  },
];

type Page =
  | { kind: 'search' }
  | { kind: 'results'; hits: Product[] }
  | { kind: 'item'; product: Product; hits: Product[] }
  | { kind: 'done'; reward: number; product: Product };

export interface WebShopGameStep {
  state: string;
  reward: number;
  done: boolean;
}

export function scriptedWebShopGame(initialSession: number) {
  let goal = SCRIPTED_WEBSHOP_GOALS[0]!;
  let page: Page = { kind: 'search' };

  function reset(session: number): void {
    goal = SCRIPTED_WEBSHOP_GOALS[Math.abs(session) % SCRIPTED_WEBSHOP_GOALS.length]!;
    page = { kind: 'search' };
  }
  reset(initialSession);

  function clickables(): string[] {
    switch (page.kind) {
      case 'search':
        return ['search'];
      case 'results':
        return ['back to search', 'next >', ...page.hits.map((hit) => hit.asin.toLowerCase())];
      case 'item':
        return ['back to search', '< prev', 'description', 'features', 'reviews', 'buy now'];
      case 'done':
        return [];
    }
  }

  function observation(): string {
    const head = `Instruction: [SEP] ${goal.instruction}`;
    switch (page.kind) {
      case 'search':
        return `WebShop [SEP] ${head} [SEP] Search`;
      case 'results': {
        const rows = page.hits.map((hit) => `${hit.asin} [SEP] ${hit.title} [SEP] $${hit.price}`);
        return [
          head,
          'Back to Search',
          `Page 1 (Total results: ${page.hits.length})`,
          'Next >',
          ...rows,
        ].join(' [SEP] ');
      }
      case 'item': {
        const { title, price } = page.product;
        const tail = ['Rating: N.A.', 'Description', 'Features', 'Reviews', 'Buy Now'];
        return [head, 'Back to Search', '< Prev', title, `Price: $${price}`, ...tail].join(' [SEP] ');
      }
      case 'done':
        return `Thank you for shopping with us! [SEP] Purchased [SEP] asin [SEP] ${page.product.asin} [SEP] Reward [SEP] Your score (min 0.0, max 1.0) [SEP] ${page.reward}`;
    }
  }

  function step(action: string): WebShopGameStep {
    const match = /^(search|click)\[(.+)\]$/.exec(action.trim());
    const verb = match?.[1];
    const argument = match?.[2]?.toLowerCase() ?? '';
    if (verb === 'search' && page.kind === 'search') {
      const words = argument.split(/\s+/);
      const hits = PRODUCTS.filter((product) =>
        words.some((word) => product.title.toLowerCase().includes(word)),
      );
      page = { kind: 'results', hits };
    } else if (verb === 'click' && clickables().includes(argument)) {
      if (argument === 'back to search') page = { kind: 'search' };
      else if (page.kind === 'results' && argument.startsWith('b0')) {
        page = {
          kind: 'item',
          product: page.hits.find((hit) => hit.asin.toLowerCase() === argument)!,
          hits: page.hits,
        };
      } else if (page.kind === 'item' && argument === '< prev') page = { kind: 'results', hits: page.hits };
      else if (page.kind === 'item' && argument === 'buy now') {
        const product = page.product;
        const reward = product.asin === goal.asin ? 1 : product.price <= goal.maxPrice ? 0.25 : 0;
        page = { kind: 'done', reward, product };
        return { state: observation(), reward, done: true };
      }
    }
    return { state: observation(), reward: 0, done: page.kind === 'done' };
  }

  return {
    reset,
    step,
    observation,
    instruction: () => `Instruction: ${goal.instruction}`,
    availableActions: () => ({ has_search_bar: page.kind === 'search', clickables: clickables() }),
  };
}
