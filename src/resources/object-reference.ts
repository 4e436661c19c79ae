import { z } from 'zod';

/** core/v1 ObjectReference as EndpointSlices and Endpoints use it (`targetRef`). */
export const objectReferenceSchema = z.object({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().min(1),
});
